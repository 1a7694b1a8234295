"""A ticket's life: create, and the status transitions (accept, forward, hold, resume,
resolve, close, reopen). Each checks the state machine and who may, writes with the version
check and its timeline node in one transaction, and tells webhooks and people after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.access import can_see_shop, scope_for
from agents.capabilities import may
from agents.models import SkillGroup, User
from agents.selectors import is_group_member
from commerce.models import Customer, Order
from service_orders.models import ServiceOrder
from settings_app.selectors import group_calendar_spec
from tickets.fields import clean_answers
from tickets.models import Priority, Ticket, TicketCategory, TicketType
from tickets.services import sla
from tickets.services.assignment import assignment_enqueue
from tickets.services.errors import TicketError, TicketPermissionError
from tickets.services.notifications import (
    customer_email,
    resolution_notice_enqueue,
    ticket_event_emit,
    ticket_ring,
    watcher_ids,
)
from tickets.services.state import (
    A,
    S,
    check_transition,
    node_add,
    require_work,
    save_versioned,
    ticket_title_clean,
)


def _check_group_fits(group: SkillGroup, shop_id: int | None) -> None:
    if group.shop_id is not None and shop_id is not None and group.shop_id != shop_id:
        raise TicketError(_("A shop's group can only receive that shop's tickets."))


def _check_service_order(
    service_order: ServiceOrder, submitter: User | None, order: Order | None
) -> None:
    if (
        submitter is not None
        and service_order.shop_id is not None
        and not can_see_shop(submitter, service_order.shop_id)
    ):
        raise TicketPermissionError(_("You cannot file tickets for that shop."))
    if (
        order is not None
        and service_order.shop_id is not None
        and order.shop_id != service_order.shop_id
    ):
        raise ValidationError(
            {"order": _("The order belongs to another shop than the conversation.")}
        )


def ticket_create(
    *,
    ticket_type: TicketType,
    title: str,
    submitter: User | None,
    answers: dict[str, Any] | None = None,
    description: str = "",
    priority: str = Priority.NORMAL,
    group: SkillGroup | None = None,
    assignee: User | None = None,
    customer: Customer | None = None,
    order: Order | None = None,
    category: TicketCategory | None = None,
    watchers: Sequence[User] = (),
    service_order: ServiceOrder | None = None,
) -> Ticket:
    """Create a ticket addressed to a group; the system assigns it after commit unless the
    submitter picked a person (who must be a member of the group). A service order links
    the chat it came from: its customer and shop are the defaults, and the customer hears
    back in that conversation when the ticket is resolved."""
    if not ticket_type.is_active:
        raise TicketError(_("This ticket type is no longer in use."))
    if priority not in Priority.values:
        raise TicketError(_("Unknown priority."))
    title = ticket_title_clean(title)
    cleaned = clean_answers(ticket_type, answers or {})
    group = group or ticket_type.default_group
    if group is None:
        raise ValidationError({"group": _("Pick the group this ticket is addressed to.")})
    if order is not None and customer is None:
        customer = order.customer
    if service_order is not None:
        _check_service_order(service_order, submitter, order)
        if customer is None:
            customer = service_order.customer
    shop_id = order.shop_id if order is not None else group.shop_id
    if shop_id is None and service_order is not None:
        shop_id = service_order.shop_id
    scope = scope_for(submitter)
    if submitter is not None and shop_id is None and not scope.all_shops:
        # A merchant's ticket to a platform group still belongs to the merchant's shop,
        # or the merchant could not see the ticket they just filed.
        if len(scope.shop_ids) != 1:
            raise ValidationError(
                {"order": _("Link an order so the ticket belongs to one of your shops.")}
            )
        shop_id = next(iter(scope.shop_ids))
    _check_group_fits(group, shop_id)
    if submitter is not None and shop_id is not None and not can_see_shop(submitter, shop_id):
        raise TicketPermissionError(_("You cannot file tickets for that shop."))
    if assignee is not None and not is_group_member(assignee, group.pk):
        raise ValidationError({"assignee": _("The person must be a member of the group.")})
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket(
            ticket_type=ticket_type,
            title=title,
            description=description.strip(),
            priority=priority,
            category=category or ticket_type.category,
            shop_id=shop_id,
            group=group,
            submitter=submitter,
            customer=customer,
            order=order,
            service_order=service_order,
            answers=cleaned,
            created_at=now,
            updated_at=now,
        )
        sla.start_clock(ticket, group_calendar_spec(group.pk), now)
        ticket.save()
        if watchers:
            ticket.watchers.set(watchers)
        origin = ""
        if service_order is not None:
            origin = _("From service order %(number)s") % {"number": service_order.number}
        created = node_add(ticket, A.CREATE, submitter, origin, when=now)
        if assignee is not None:
            ticket.assignee = assignee
            ticket.status = S.ASSIGNED
            ticket.assigned_at = now
            save_versioned(ticket, ["assignee", "status", "assigned_at"], version=None)
            node_add(ticket, A.ASSIGN, submitter)
            ticket_ring(ticket, assignee.pk)
        else:
            assignment_enqueue(ticket)
        ticket_event_emit("ticket.created", ticket, created)
    return ticket


def ticket_accept(*, ticket: Ticket, actor: User, version: int | None = None) -> Ticket:
    """The actor takes the ticket and starts on it (counts as the first response)."""
    check_transition(ticket, A.ACCEPT)
    if not may(actor, "accept", ticket):
        if ticket.status == S.ASSIGNED and ticket.assignee_id != actor.pk:
            raise TicketPermissionError(_("This ticket is assigned to someone else."))
        raise TicketPermissionError(_("Only members of the group can take this ticket."))
    now = timezone.now()
    with transaction.atomic():
        previous = ticket.assignee_id
        ticket.assignee = actor
        ticket.status = S.IN_PROGRESS
        if ticket.assigned_at is None or previous != actor.pk:
            ticket.assigned_at = now
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        sla.refresh_derived(ticket, group_calendar_spec(ticket.group_id), now)
        save_versioned(
            ticket,
            ["assignee", "status", "assigned_at", "first_response_at", *sla.SLA_FIELDS],
            version=version,
        )
        ticket_event_emit("ticket.assigned", ticket, node_add(ticket, A.ACCEPT, actor))
        ticket_ring(ticket, previous if previous != actor.pk else None)
    return ticket


def ticket_forward(
    *,
    ticket: Ticket,
    to_group: SkillGroup,
    actor: User,
    note: str,
    version: int | None = None,
) -> Ticket:
    """Hand the ticket to another group; the deadlines' remaining business time moves to
    the new group's calendar, and the system assigns a member there."""
    check_transition(ticket, A.FORWARD)
    require_work(actor, ticket)
    if to_group.pk == ticket.group_id:
        raise TicketError(_("The ticket is already with that group."))
    if not to_group.is_active:
        raise TicketError(_("That group is not active."))
    _check_group_fits(to_group, ticket.shop_id)
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say what the next group should do.")})
    now = timezone.now()
    with transaction.atomic():
        old_spec = group_calendar_spec(ticket.group_id)
        previous = ticket.assignee_id
        ticket.group = to_group
        ticket.assignee = None
        ticket.assigned_at = None
        new_spec = group_calendar_spec(to_group.pk)
        if ticket.status == S.ON_HOLD:
            sla.unpause(ticket, old_spec, now)
        ticket.status = S.NEW
        ticket.hold_reason = ""
        sla.move_to_calendar(ticket, old_spec, new_spec, now)
        save_versioned(
            ticket,
            ["group", "assignee", "assigned_at", "status", "hold_reason", *sla.SLA_FIELDS],
            version=version,
        )
        ticket_event_emit("ticket.forwarded", ticket, node_add(ticket, A.FORWARD, actor, note))
        ticket_ring(ticket, previous, *watcher_ids(ticket))
        assignment_enqueue(ticket)
    return ticket


def ticket_hold(
    *,
    ticket: Ticket,
    actor: User,
    reason: str,
    note: str = "",
    version: int | None = None,
) -> Ticket:
    """Wait for the customer (pauses the SLA clock) or a third party (it keeps running)."""
    check_transition(ticket, A.HOLD)
    require_work(actor, ticket)
    if reason not in Ticket.HoldReason.values:
        raise TicketError(_("Say who the ticket is waiting for."))
    now = timezone.now()
    with transaction.atomic():
        ticket.status = S.ON_HOLD
        ticket.hold_reason = reason
        if ticket.assignee_id is None:
            ticket.assignee = actor
        if reason == Ticket.HoldReason.CUSTOMER:
            sla.pause(ticket, group_calendar_spec(ticket.group_id), now)
        save_versioned(
            ticket, ["status", "hold_reason", "assignee", *sla.SLA_FIELDS], version=version
        )
        label = str(Ticket.HoldReason(reason).label)
        node = node_add(ticket, A.HOLD, actor, note.strip() or label)
        ticket_event_emit("ticket.updated", ticket, node)
    return ticket


def ticket_resume(*, ticket: Ticket, actor: User, version: int | None = None) -> Ticket:
    check_transition(ticket, A.RESUME)
    require_work(actor, ticket)
    now = timezone.now()
    with transaction.atomic():
        ticket.status = S.IN_PROGRESS
        ticket.hold_reason = ""
        sla.unpause(ticket, group_calendar_spec(ticket.group_id), now)
        save_versioned(ticket, ["status", "hold_reason", *sla.SLA_FIELDS], version=version)
        ticket_event_emit("ticket.updated", ticket, node_add(ticket, A.RESUME, actor))
    return ticket


def ticket_resolve(*, ticket: Ticket, actor: User, note: str, version: int | None = None) -> Ticket:
    """Done: the resolution note goes on the node (and to the customer by email)."""
    check_transition(ticket, A.RESOLVE)
    require_work(actor, ticket)
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say how it was resolved.")})
    now = timezone.now()
    with transaction.atomic():
        spec = group_calendar_spec(ticket.group_id)
        sla.unpause(ticket, spec, now)
        ticket.status = S.RESOLVED
        ticket.hold_reason = ""
        ticket.resolved_at = now
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        sla.refresh_derived(ticket, spec, now)
        save_versioned(
            ticket,
            ["status", "hold_reason", "resolved_at", "first_response_at", *sla.SLA_FIELDS],
            version=version,
        )
        node = node_add(ticket, A.RESOLVE, actor, note)
        ticket_event_emit("ticket.resolved", ticket, node)
        ticket_ring(ticket, ticket.submitter_id, *watcher_ids(ticket))
        if ticket.service_order_id:
            resolution_notice_enqueue(node)
        else:
            customer_email(ticket, note, resolved=True)
    return ticket


def ticket_close(*, ticket: Ticket, actor: User, version: int | None = None) -> Ticket:
    check_transition(ticket, A.CLOSE)
    if not may(actor, "close", ticket):
        raise TicketPermissionError(_("Only the submitter, the group or a supervisor can close."))
    with transaction.atomic():
        ticket.status = S.CLOSED
        ticket.closed_at = timezone.now()
        save_versioned(ticket, ["status", "closed_at"], version=version)
        ticket_event_emit("ticket.closed", ticket, node_add(ticket, A.CLOSE, actor))
    return ticket


def ticket_reopen(*, ticket: Ticket, actor: User, note: str, version: int | None = None) -> Ticket:
    """Back to work: to the last assignee if they are still in the group, else the queue.
    The resolution clock starts afresh from the policy (the old deadline is history)."""
    check_transition(ticket, A.REOPEN)
    if not may(actor, "reopen", ticket):
        raise TicketPermissionError(_("Only the submitter, the group or a supervisor can reopen."))
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why the ticket is reopened.")})
    now = timezone.now()
    with transaction.atomic():
        keep = ticket.assignee_id and is_group_member(ticket.assignee, ticket.group_id)
        ticket.status = S.IN_PROGRESS if keep else S.NEW
        if not keep:
            ticket.assignee = None
            ticket.assigned_at = None
        ticket.resolved_at = ticket.closed_at = None
        sla.start_clock(ticket, group_calendar_spec(ticket.group_id), now)
        save_versioned(
            ticket,
            ["status", "assignee", "assigned_at", "resolved_at", "closed_at", *sla.SLA_FIELDS],
            version=version,
        )
        ticket_event_emit("ticket.reopened", ticket, node_add(ticket, A.REOPEN, actor, note))
        ticket_ring(ticket, ticket.assignee_id, *watcher_ids(ticket))
        if not keep:
            assignment_enqueue(ticket)
    return ticket
