from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "kefu:scheduler:last-beat"


@shared_task(name="core.tasks.scheduler_heartbeat")
def scheduler_heartbeat() -> str:
    """Periodic pulse: /healthz shows when the scheduler last fired, so a dead beat shows."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, stamp, timeout=None)
    return stamp
