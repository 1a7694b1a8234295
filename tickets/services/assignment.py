"""Who holds a ticket: automatic assignment, manual assignment, reassignment.

The choice of person (tickets.selectors.pick_assignee) is a read; these functions lock the
ticket, write the choice with the version bump, and record it on the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.capabilities import may
from agents.models import User
from agents.selectors import is_group_member
from settings_app.business_time import business_seconds_between, is_open_at
from settings_app.selectors import group_calendar_spec, group_settings
from tickets.models import Ticket
from tickets.selectors import pick_assignee
from tickets.services.errors import TicketError, TicketPermissionError
from tickets.services.notifications import ticket_event_emit, ticket_ring
from tickets.services.state import A, S, check_transition, node_add, save_versioned


def assignment_enqueue(ticket: Ticket) -> None:
    """Ask a worker to assign the ticket once the caller's transaction commits."""
    from tickets.tasks import assign_ticket

    ticket_id = ticket.pk
    transaction.on_commit(lambda: assign_ticket.delay(ticket_id))


def ticket_auto_assign(*, ticket_id: int, exclude: Iterable[int] = ()) -> User | None:
    """Give an unassigned ticket to a member on duty; hold it outside working hours.

    Safe to run twice and from several workers at once: the ticket row is locked
    (SELECT … FOR UPDATE), and a ticket someone already holds is left alone."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update()
            .filter(pk=ticket_id, status__in=[S.NEW, S.WAITING_HOURS])
            .first()
        )
        if ticket is None:
            return None
        now = timezone.now()
        if not is_open_at(group_calendar_spec(ticket.group_id), now):
            if ticket.status != S.WAITING_HOURS:
                ticket.status = S.WAITING_HOURS
                save_versioned(ticket, ["status"], version=None)
                ticket_event_emit(
                    "ticket.updated", ticket, node_add(ticket, A.HOLD_FOR_HOURS, None)
                )
            return None
        person = pick_assignee(ticket, exclude=exclude)
        if person is None:
            return None
        ticket.assignee = person
        ticket.status = S.ASSIGNED
        ticket.assigned_at = now
        save_versioned(ticket, ["assignee", "status", "assigned_at"], version=None)
        ticket_event_emit("ticket.assigned", ticket, node_add(ticket, A.ASSIGN, None))
        ticket_ring(ticket, person.pk)
        return person


def ticket_assign(
    *, ticket: Ticket, assignee: User, actor: User, version: int | None = None, note: str = ""
) -> Ticket:
    """Manual (re)assignment by a supervisor or a lead of the group."""
    check_transition(ticket, A.ASSIGN)
    if not may(actor, "supervise", ticket):
        raise TicketPermissionError(_("Only supervisors and group leads can reassign tickets."))
    if not is_group_member(assignee, ticket.group_id):
        raise TicketError(_("The person must be a member of the ticket's group."))
    previous = ticket.assignee_id
    with transaction.atomic():
        ticket.assignee = assignee
        if ticket.status in (S.NEW, S.WAITING_HOURS):
            ticket.status = S.ASSIGNED
        ticket.assigned_at = timezone.now()
        save_versioned(ticket, ["assignee", "status", "assigned_at"], version=version)
        node = node_add(ticket, A.REASSIGN if previous else A.ASSIGN, actor, note.strip())
        ticket_event_emit("ticket.assigned", ticket, node)
        ticket_ring(ticket, assignee.pk, previous)
    return ticket


def ticket_reassign_untouched(*, ticket_id: int, now: datetime | None = None) -> User | None:
    """Give an assigned ticket nobody accepted within the group's time to someone else."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id, status=S.ASSIGNED).first()
        if ticket is None or ticket.assigned_at is None:
            return None
        config = group_settings(ticket.group_id)
        if config is None or not config.reassign_after_minutes:
            return None
        spec = group_calendar_spec(ticket.group_id)
        if business_seconds_between(spec, ticket.assigned_at, now) < (
            config.reassign_after_minutes * 60
        ):
            return None
        previous = ticket.assignee_id
        person = pick_assignee(ticket, exclude=[previous] if previous else [])
        if person is None:
            return None
        ticket.assignee = person
        ticket.assigned_at = now
        save_versioned(ticket, ["assignee", "assigned_at"], version=None)
        node = node_add(
            ticket,
            A.REASSIGN,
            None,
            _("Not accepted within %(minutes)s business minutes.")
            % {"minutes": config.reassign_after_minutes},
        )
        ticket_event_emit("ticket.assigned", ticket, node)
        ticket_ring(ticket, person.pk, previous)
        return person


def ticket_reassign_on_breach(*, ticket: Ticket) -> None:
    """A breached deadline under a reassigning policy: the ticket goes to someone else."""
    with transaction.atomic():
        fresh = Ticket.objects.select_for_update().get(pk=ticket.pk)
        person = pick_assignee(fresh, exclude=[fresh.assignee_id] if fresh.assignee_id else [])
        if person is None:
            return
        previous = fresh.assignee_id
        fresh.assignee = person
        fresh.status = S.ASSIGNED
        fresh.assigned_at = timezone.now()
        save_versioned(fresh, ["assignee", "status", "assigned_at"], version=None)
        node = node_add(fresh, A.REASSIGN, None, _("SLA breached: reassigned by policy."))
        ticket_event_emit("ticket.assigned", fresh, node)
        ticket_ring(fresh, person.pk, previous)
