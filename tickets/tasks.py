"""Celery tasks: thin, load by id, call the service; every one is safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from settings_app.models import GroupSettings
from tickets import services
from tickets.models import SlaEvent, Ticket

BATCH = 500


@shared_task(name="tickets.assign_ticket")
def assign_ticket(ticket_id: int) -> int | None:
    person = services.ticket_auto_assign(ticket_id=ticket_id)
    return person.pk if person else None


@shared_task(name="tickets.assign_waiting")
def assign_waiting() -> int:
    """Tickets nobody could take (closed hours, nobody on duty): try again."""
    ids = list(
        Ticket.objects.filter(status__in=[Ticket.Status.NEW, Ticket.Status.WAITING_HOURS])
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(1 for pk in ids if services.ticket_auto_assign(ticket_id=pk))


@shared_task(name="tickets.reassign_untouched")
def reassign_untouched() -> int:
    """Assigned but never accepted within the group's time: give it to someone else."""
    now = timezone.now()
    count = 0
    for config in GroupSettings.objects.filter(reassign_after_minutes__isnull=False):
        # Business minutes never exceed wall minutes, so this pre-filter loses nothing.
        cutoff = now - timedelta(minutes=config.reassign_after_minutes or 0)
        ids = Ticket.objects.filter(
            group_id=config.group_id, status=Ticket.Status.ASSIGNED, assigned_at__lte=cutoff
        ).values_list("pk", flat=True)[:BATCH]
        count += sum(1 for pk in ids if services.ticket_reassign_untouched(ticket_id=pk, now=now))
    return count


@shared_task(name="tickets.sla_sweep")
def sla_sweep() -> int:
    """Record reminders and breaches that are due; re-send deliveries a dead worker left."""
    now = timezone.now()
    ids = list(
        Ticket.objects.filter(sla_check_at__lte=now)
        .order_by("sla_check_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    created = sum(len(services.ticket_sla_check(ticket_id=pk, now=now)) for pk in ids)
    stuck = SlaEvent.objects.filter(
        Q(delivered_at__isnull=True), created_at__lte=now - timedelta(minutes=2)
    ).values_list("pk", flat=True)[:BATCH]
    for pk in stuck:
        deliver_sla_event.delay(pk)
    return created


@shared_task(name="tickets.deliver_sla_event")
def deliver_sla_event(event_id: int) -> bool:
    return services.sla_event_deliver(event_id=event_id)
