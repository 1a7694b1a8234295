"""Celery tasks: thin wrappers that load by id and call the webhook services."""

from __future__ import annotations

from celery import shared_task

from integrations.services import (
    webhook_deliveries_due,
    webhook_deliveries_purge,
    webhook_delivery_attempt,
)


@shared_task(name="integrations.tasks.webhook_deliver")
def webhook_deliver(delivery_id: int) -> str | None:
    """Try one delivery. Running it twice (retried task, sweep) sends at most once."""
    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery else None


@shared_task(name="integrations.tasks.webhook_deliver_due")
def webhook_deliver_due() -> int:
    """Periodic: enqueue every delivery whose retry is due (or whose first task was lost)."""
    due = webhook_deliveries_due()
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    return len(due)


@shared_task(name="integrations.tasks.webhook_purge_log")
def webhook_purge_log() -> int:
    """Periodic: keep the delivery log to the retention period."""
    return webhook_deliveries_purge()
