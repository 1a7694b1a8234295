from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health
from core.tasks import HEARTBEAT_CACHE_KEY


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make up`: database, cache and the scheduler's pulse;
    then the apps' registered checks (core.health), which warn but never fail it."""
    status: dict[str, object] = {"database": "ok", "cache": "ok", "scheduler_last_beat": None}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        status["database"] = "unavailable"
        code = 503
    try:
        cache.set("kefu:healthz", "1", 5)
        status["scheduler_last_beat"] = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        status["cache"] = "unavailable"
        code = 503
    if code == 200:
        # Without a database the apps' checks could only say "unavailable".
        status.update(health.report())
    return JsonResponse(status, status=code)
