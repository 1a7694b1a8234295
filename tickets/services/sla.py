"""The SLA of a ticket: its clock, and the sweep that records reminders and breaches.

The clock (policy_for … unpause) computes and sets fields on an in-memory ticket: deadlines
on the group's calendar, pauses, the derived fields the list and the sweep read. The
services that change a ticket call it and save the fields inside their own transaction
(with the version check). The sweep (ticket_sla_check) records each due reminder or breach
once, tells webhooks, and escalates by policy.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from settings_app.business_time import (
    CalendarSpec,
    add_business_seconds,
    business_seconds_between,
    subtract_business_seconds,
)
from settings_app.selectors import group_calendar_spec
from tickets.models import SlaEvent, SlaPolicy, Ticket, TicketNode
from tickets.services.assignment import ticket_reassign_on_breach
from tickets.services.notifications import ticket_event_emit
from tickets.services.state import node_add

A = TicketNode.Action

SLA_FIELDS = [
    "sla_policy",
    "first_response_due",
    "resolution_due",
    "paused_at",
    "paused_seconds",
    "sla_due",
    "sla_warn_at",
    "sla_check_at",
]


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The most specific active policy: type+priority, then type, then priority, then any."""
    candidates = SlaPolicy.objects.filter(
        Q(ticket_type_id=ticket.ticket_type_id) | Q(ticket_type__isnull=True),
        Q(priority=ticket.priority) | Q(priority=""),
        is_active=True,
    )
    best = None
    best_score = -1
    for policy in candidates:
        score = (2 if policy.ticket_type_id else 0) + (1 if policy.priority else 0)
        if score > best_score or (score == best_score and best and policy.pk < best.pk):
            best, best_score = policy, score
    return best


def running_deadlines(ticket: Ticket) -> dict[str, datetime]:
    """The deadlines whose clock is running now (none while paused or done)."""
    if ticket.paused_at is not None or not ticket.is_open:
        return {}
    running = {}
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        running[SlaEvent.Deadline.FIRST_RESPONSE.value] = ticket.first_response_due
    if ticket.resolution_due is not None:
        running[SlaEvent.Deadline.RESOLUTION.value] = ticket.resolution_due
    return running


def reminder_at(ticket: Ticket, spec: CalendarSpec, due: datetime) -> datetime:
    remind = ticket.sla_policy.remind_before_minutes if ticket.sla_policy else 0
    return subtract_business_seconds(spec, due, remind * 60)


def refresh_derived(ticket: Ticket, spec: CalendarSpec, now: datetime) -> None:
    """Recompute sla_due / sla_warn_at (for the list) and sla_check_at (for the sweep)."""
    running = running_deadlines(ticket)
    if not running:
        ticket.sla_due = ticket.sla_warn_at = ticket.sla_check_at = None
        return
    ticket.sla_due = min(running.values())
    ticket.sla_warn_at = reminder_at(ticket, spec, ticket.sla_due)
    # The sweep looks at the ticket from the earliest reminder on. A reminder already due
    # (a ticket filed close to its deadline, or a change) is checked at once; its unique
    # SlaEvent row makes a second look harmless, and the sweep then moves the check on.
    ticket.sla_check_at = min(reminder_at(ticket, spec, due) for due in running.values())


def start_clock(ticket: Ticket, spec: CalendarSpec, now: datetime) -> None:
    """On create (and reopen): fresh deadlines from the policy on the group's calendar."""
    policy = policy_for(ticket)
    ticket.sla_policy = policy
    if policy is None:
        ticket.first_response_due = ticket.resolution_due = None
    else:
        if ticket.first_response_at is None:
            ticket.first_response_due = add_business_seconds(
                spec, now, policy.first_response_minutes * 60
            )
        ticket.resolution_due = add_business_seconds(spec, now, policy.resolution_minutes * 60)
    refresh_derived(ticket, spec, now)


def reapply_policy(ticket: Ticket, spec: CalendarSpec, now: datetime) -> None:
    """After a change of type or priority: the matching policy's targets, counted from
    creation on the current group's calendar and shifted by the time paused so far.
    (Time spent with earlier groups is counted on the current calendar: an approximation
    that only matters when calendars differ.)"""
    policy = policy_for(ticket)
    ticket.sla_policy = policy
    if policy is None:
        ticket.first_response_due = ticket.resolution_due = None
    else:
        start = add_business_seconds(spec, ticket.created_at, 0)
        paused = ticket.paused_seconds
        if ticket.first_response_at is None:
            ticket.first_response_due = add_business_seconds(
                spec, start, policy.first_response_minutes * 60 + paused
            )
        ticket.resolution_due = add_business_seconds(
            spec, start, policy.resolution_minutes * 60 + paused
        )
    refresh_derived(ticket, spec, now)


def move_to_calendar(ticket: Ticket, old: CalendarSpec, new: CalendarSpec, now: datetime) -> None:
    """On forward: what was left on the old group's calendar is granted on the new one."""
    for attr in ("first_response_due", "resolution_due"):
        due = getattr(ticket, attr)
        if due is None or (attr == "first_response_due" and ticket.first_response_at):
            continue
        left = business_seconds_between(old, now, due)
        if left > 0:  # a breached deadline stays where it was
            setattr(ticket, attr, add_business_seconds(new, now, left))
    refresh_derived(ticket, new, now)


def pause(ticket: Ticket, spec: CalendarSpec, now: datetime) -> None:
    ticket.paused_at = now
    refresh_derived(ticket, spec, now)


def unpause(ticket: Ticket, spec: CalendarSpec, now: datetime) -> None:
    if ticket.paused_at is None:
        return
    paused = max(business_seconds_between(spec, ticket.paused_at, now), 0)
    ticket.paused_seconds += round(paused)
    ticket.paused_at = None
    if paused:
        if ticket.first_response_due and ticket.first_response_at is None:
            ticket.first_response_due = add_business_seconds(
                spec, ticket.first_response_due, paused
            )
        if ticket.resolution_due:
            ticket.resolution_due = add_business_seconds(spec, ticket.resolution_due, paused)
    refresh_derived(ticket, spec, now)


# --- the sweep ------------------------------------------------------------------------------


def sla_event_record(
    ticket: Ticket, deadline_kind: str, due: datetime, kind: str
) -> SlaEvent | None:
    """Insert the one row for this (ticket, deadline, value, kind); None if it exists."""
    try:
        with transaction.atomic():
            return SlaEvent.objects.create(
                ticket=ticket, deadline_kind=deadline_kind, deadline=due, kind=kind
            )
    except IntegrityError:
        return None


def ticket_sla_check(*, ticket_id: int, now: datetime | None = None) -> list[SlaEvent]:
    """Record due reminders and breaches of one ticket, escalate, and schedule the next
    check. Each event is a unique row, so a retried or concurrent run sends nothing twice."""
    from tickets.tasks import deliver_sla_event

    now = now or timezone.now()
    created: list[SlaEvent] = []
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("sla_policy")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:
            return created
        spec = group_calendar_spec(ticket.group_id)
        reassign = False
        for deadline_kind, due in running_deadlines(ticket).items():
            if now >= due:
                kind = SlaEvent.Kind.BREACH
            elif now >= reminder_at(ticket, spec, due):
                kind = SlaEvent.Kind.REMINDER
            else:
                continue
            event = sla_event_record(ticket, deadline_kind, due, kind)
            if event is None:
                continue
            created.append(event)
            label = SlaEvent.Deadline(deadline_kind).label
            node = node_add(
                ticket,
                A.SLA_BREACH if kind == SlaEvent.Kind.BREACH else A.SLA_REMINDER,
                None,
                f"{label}: {timezone.localtime(due):%Y-%m-%d %H:%M}",
            )
            # In the transaction of the event's unique row, like the node: a retried or
            # concurrent check that finds the row emits nothing, so once per deadline.
            ticket_event_emit(
                "ticket.sla_breached" if kind == SlaEvent.Kind.BREACH else "ticket.sla_warning",
                ticket,
                node,
                {"sla": {"event_id": event.pk, "deadline": deadline_kind, "due": due}},
            )
            if (
                kind == SlaEvent.Kind.BREACH
                and ticket.sla_policy
                and ticket.sla_policy.reassign_on_breach
            ):
                reassign = True
            transaction.on_commit(partial(deliver_sla_event.delay, event.pk))
        # Next look: the next reminder/deadline ahead, or nothing when all are handled.
        ahead = []
        for due in running_deadlines(ticket).values():
            warn = reminder_at(ticket, spec, due)
            ahead += [t for t in (warn, due) if t > now]
        Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=min(ahead) if ahead else None)
    working = (Ticket.Status.ASSIGNED, Ticket.Status.IN_PROGRESS)
    if reassign and ticket.status in working and ticket.assignee_id:
        ticket_reassign_on_breach(ticket=ticket)
    return created
