"""Celery tasks: thin, load by id, call the service; every one is safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from settings_app.business_time import is_open_at
from settings_app.models import GroupSettings
from settings_app.selectors import group_calendar_spec
from tickets import selectors
from tickets.models import SlaEvent, Ticket
from tickets.services import assignment, notifications, sla

BATCH = 500


@shared_task(name="tickets.assign_ticket")
def assign_ticket(ticket_id: int) -> int | None:
    person = assignment.ticket_auto_assign(ticket_id=ticket_id)
    return person.pk if person else None


@shared_task(name="tickets.assign_waiting")
def assign_waiting() -> int:
    """Tickets nobody could take (closed hours, nobody on duty): try again.

    Group by group, so a group that is closed or has nobody on duty costs one check
    instead of one locked transaction per ticket, and cannot starve the other groups."""
    now = timezone.now()
    waiting = Ticket.objects.filter(status__in=[Ticket.Status.NEW, Ticket.Status.WAITING_HOURS])
    assigned = 0
    for group_id in waiting.order_by().values_list("group_id", flat=True).distinct():
        open_now = is_open_at(group_calendar_spec(group_id), now)
        if open_now and not selectors.on_duty_members(group_id).exists():
            continue
        batch = waiting.filter(group_id=group_id)
        if not open_now:
            # Only tickets not yet marked need a look (they get their waiting node).
            batch = batch.filter(status=Ticket.Status.NEW)
        for pk in batch.order_by("created_at").values_list("pk", flat=True)[:BATCH]:
            if assignment.ticket_auto_assign(ticket_id=pk):
                assigned += 1
    return assigned


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
        count += sum(1 for pk in ids if assignment.ticket_reassign_untouched(ticket_id=pk, now=now))
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
    created = sum(len(sla.ticket_sla_check(ticket_id=pk, now=now)) for pk in ids)
    stuck = SlaEvent.objects.filter(
        Q(delivered_at__isnull=True), created_at__lte=now - timedelta(minutes=2)
    ).values_list("pk", flat=True)[:BATCH]
    for pk in stuck:
        deliver_sla_event.delay(pk)
    return created


@shared_task(name="tickets.deliver_sla_event")
def deliver_sla_event(event_id: int) -> bool:
    return notifications.sla_event_deliver(event_id=event_id)


@shared_task(name="tickets.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    from tickets.api.idempotency import idempotency_keys_purge

    return idempotency_keys_purge()


@shared_task(name="tickets.notify_resolution")
def notify_resolution(node_id: int) -> bool:
    return notifications.ticket_notify_resolution(node_id=node_id)
