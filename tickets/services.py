"""Every change to a ticket goes through these functions (view, task, admin, API alike).

Each transition checks the state machine, writes its node in the same transaction, and
saves with optimistic locking: UPDATE … WHERE id = … AND version = N, bumping the
version. A stale write raises StaleTicketError and changes nothing, so the user reloads
and sees the other person's change instead of silently overwriting it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, ForeignKey, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.access import can_see_shop, scope_for
from agents.capabilities import may
from agents.models import AgentProfile, GroupMembership, SkillGroup, User
from agents.roles import roles_with
from commerce.models import Customer, Order
from core.realtime import broadcast_on_commit
from integrations.services import webhook_emit
from service_orders.models import ServiceOrder
from settings_app.business_time import business_seconds_between, is_open_at
from settings_app.selectors import group_calendar_spec, group_settings
from tickets import sla
from tickets.fields import clean_answers
from tickets.models import (
    Priority,
    SlaEvent,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketNode,
    TicketType,
)

logger = logging.getLogger(__name__)

S = Ticket.Status
A = TicketNode.Action
OPEN = frozenset(Ticket.OPEN_STATUSES)
# Who holds the work: these count as a person's open tickets when balancing load.
WORKING = (S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD)
# On duty for tickets: online or away. Tickets wait hours, not seconds, so a short "away"
# (lunch, a meeting) does not make someone unfit to receive one; offline does. Business
# staff hold no seat switch (they never chat): they count as on duty whenever their
# group's calendar is open, which ticket_auto_assign checks first.
ON_DUTY = (AgentProfile.State.ONLINE, AgentProfile.State.AWAY)

ALLOWED: dict[str, frozenset[str]] = {
    A.ACCEPT: frozenset({S.NEW, S.WAITING_HOURS, S.ASSIGNED}),
    A.ASSIGN: frozenset({S.NEW, S.WAITING_HOURS, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD}),
    A.FORWARD: OPEN,
    A.REPLY: OPEN,
    A.HOLD: frozenset({S.ASSIGNED, S.IN_PROGRESS}),
    A.RESUME: frozenset({S.ON_HOLD}),
    A.RESOLVE: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD}),
    A.CLOSE: frozenset({S.RESOLVED}),
    A.REOPEN: frozenset({S.RESOLVED, S.CLOSED}),
}

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".zip": "application/zip",
}


class TicketError(Exception):
    """A refused change, with a message for the person who tried it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransitionError(TicketError):
    pass


class StaleTicketError(TicketError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this ticket while you were looking at it. "
                "Reload it to see their change; what you typed is still in the form."
            )
        )


class TicketPermissionError(TicketError):
    pass


# --- helpers ---------------------------------------------------------------------------


def _check(ticket: Ticket, action: str) -> None:
    if ticket.status not in ALLOWED[action]:
        raise InvalidTransitionError(
            _("A ticket that is “%(status)s” cannot be %(action)s.")
            % {
                "status": ticket.get_status_display(),
                "action": str(A(action).label).lower(),
            }
        )


def _save(ticket: Ticket, fields: Iterable[str], *, version: int | None) -> None:
    """Write `fields` only if nobody saved since `version`; bump the version."""
    expected = ticket.version if version is None else version
    if expected != ticket.version:
        raise StaleTicketError
    now = timezone.now()
    ticket.updated_at = now
    values = {name: getattr(ticket, name) for name in {*fields, "updated_at"}}
    # Django wants FK attnames for update(); accept the relation names services use.
    for name in list(values):
        field = Ticket._meta.get_field(name)
        if isinstance(field, ForeignKey):
            values[field.attname] = getattr(ticket, field.attname)
            del values[name]
    updated = Ticket.objects.filter(pk=ticket.pk, version=expected).update(
        version=F("version") + 1, **values
    )
    if updated != 1:
        raise StaleTicketError
    ticket.version = expected + 1


def _node(
    ticket: Ticket, action: str, actor: User | None, comment: str = "", when: datetime | None = None
) -> TicketNode:
    return TicketNode.objects.create(
        ticket=ticket,
        action=action,
        actor=actor,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        status=ticket.status,
        comment=comment,
        created_at=when or timezone.now(),
    )


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}


def ticket_event_payload(ticket: Ticket, node: TicketNode) -> dict[str, Any]:
    """The stable webhook payload of a ticket event (documented in docs/webhooks.md)."""
    return {
        "ticket": {
            "id": ticket.pk,
            "title": ticket.title,
            "status": ticket.status,
            "hold_reason": ticket.hold_reason,
            "priority": ticket.priority,
            "type": {"id": ticket.ticket_type_id, "name": ticket.ticket_type.name},
            "group": {"id": ticket.group_id, "name": ticket.group.name},
            "assignee": _person(ticket.assignee),
            "shop": {"id": ticket.shop_id, "code": ticket.shop.code} if ticket.shop else None,
            "customer": (
                {"id": ticket.customer_id, "external_id": ticket.customer.external_id}
                if ticket.customer is not None
                else None
            ),
            "order_no": ticket.order.order_no if ticket.order is not None else None,
            "version": ticket.version,
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at,
            "first_response_due": ticket.first_response_due,
            "resolution_due": ticket.resolution_due,
            "resolved_at": ticket.resolved_at,
            "closed_at": ticket.closed_at,
        },
        "node": {
            "id": node.pk,
            "action": node.action,
            "actor": _person(node.actor),
            "group_id": node.group_id,
            "assignee_id": node.assignee_id,
            "status": node.status,
            "comment": node.comment,
            "created_at": node.created_at,
        },
    }


def _emit(
    event_type: str, ticket: Ticket, node: TicketNode, extra: dict[str, Any] | None = None
) -> TicketNode:
    """Queue the webhook for this step inside the caller's transaction (nothing on rollback).
    The payload is built only if an active endpoint listens (webhook_emit decides)."""
    webhook_emit(
        event_type=event_type,
        payload=lambda: {**ticket_event_payload(ticket, node), **(extra or {})},
        shop_id=ticket.shop_id,
    )
    return node


def _ring(ticket: Ticket, *user_ids: int | None, kind: str = "ticket.changed") -> None:
    """Tell the people concerned that the ticket changed (they re-read over HTTP)."""
    for uid in {u for u in user_ids if u}:
        broadcast_on_commit(f"user.{uid}", {"type": kind, "ticket": ticket.pk})


def _watcher_ids(ticket: Ticket) -> list[int]:
    return list(ticket.watchers.values_list("pk", flat=True))


def is_member(user: User | None, group_id: int) -> bool:
    if user is None:
        return False
    return GroupMembership.objects.filter(group_id=group_id, user=user).exists()


def is_lead(user: User, group_id: int) -> bool:
    return GroupMembership.objects.filter(
        group_id=group_id, user=user, role=GroupMembership.Role.LEAD
    ).exists()


def can_supervise(user: User, ticket: Ticket) -> bool:
    """Supervisors and admins override anywhere; a group's leads within their group."""
    return may(user, "supervise") or is_lead(user, ticket.group_id)


def can_work(user: User, ticket: Ticket) -> bool:
    """The assignee, members of the ticket's group and supervisors act on a ticket."""
    return (
        ticket.assignee_id == user.pk
        or is_member(user, ticket.group_id)
        or can_supervise(user, ticket)
    )


def _require_work(user: User, ticket: Ticket) -> None:
    if not can_work(user, ticket):
        raise TicketPermissionError(
            _("Only the assignee, members of the group and supervisors can do that.")
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


def _enqueue_assignment(ticket: Ticket) -> None:
    from tickets.tasks import assign_ticket

    ticket_id = ticket.pk
    transaction.on_commit(lambda: assign_ticket.delay(ticket_id))


# --- create ----------------------------------------------------------------------------


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
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("A ticket needs a title.")})
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
    if assignee is not None and not is_member(assignee, group.pk):
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
        created = _node(ticket, A.CREATE, submitter, origin, when=now)
        if assignee is not None:
            ticket.assignee = assignee
            ticket.status = S.ASSIGNED
            ticket.assigned_at = now
            _save(ticket, ["assignee", "status", "assigned_at"], version=None)
            _node(ticket, A.ASSIGN, submitter)
            _ring(ticket, assignee.pk)
        else:
            _enqueue_assignment(ticket)
        _emit("ticket.created", ticket, created)
    return ticket


# --- assignment ------------------------------------------------------------------------


def on_duty_members(group_id: int) -> QuerySet[User]:
    """Members of a group who may receive a ticket now (calendar aside)."""
    # Exists, not a join: a join on groups would multiply the open-ticket count below.
    business_staff = User.groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=sorted(roles_with("duty_off_seat"))
    )
    return User.objects.filter(
        Q(agent_profile__state__in=ON_DUTY) | Q(Exists(business_staff)),
        group_memberships__group_id=group_id,
        is_active=True,
    )


def pick_assignee(ticket: Ticket, *, exclude: Iterable[int] = ()) -> User | None:
    """The member to give the ticket to, or None when nobody on duty can take it.

    Preference: the order's owner; then whoever handled earlier tickets of the same order;
    then the member with the fewest open tickets (online before away, then by id)."""
    excluded = set(exclude)
    candidates = (
        on_duty_members(ticket.group_id)
        .exclude(pk__in=excluded)
        .annotate(
            open_count=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=WORKING))
        )
        .order_by("open_count", "-agent_profile__state", "pk")  # "online" > "away"
    )
    people = list(candidates)
    if not people:
        return None
    by_id = {p.pk: p for p in people}
    if ticket.order_id:
        owner_id = Order.objects.filter(pk=ticket.order_id).values_list("owner_id", flat=True)
        owner = by_id.get(owner_id.first() or 0)
        if owner is not None:
            return owner
        earlier = (
            Ticket.objects.filter(order_id=ticket.order_id, assignee_id__in=by_id)
            .exclude(pk=ticket.pk)
            .order_by("-created_at", "-id")
            .values_list("assignee_id", flat=True)
            .first()
        )
        if earlier:
            return by_id[earlier]
    return people[0]


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
                _save(ticket, ["status"], version=None)
                _emit("ticket.updated", ticket, _node(ticket, A.HOLD_FOR_HOURS, None))
            return None
        person = pick_assignee(ticket, exclude=exclude)
        if person is None:
            return None
        ticket.assignee = person
        ticket.status = S.ASSIGNED
        ticket.assigned_at = now
        _save(ticket, ["assignee", "status", "assigned_at"], version=None)
        _emit("ticket.assigned", ticket, _node(ticket, A.ASSIGN, None))
        _ring(ticket, person.pk)
        return person


def ticket_assign(
    *, ticket: Ticket, assignee: User, actor: User, version: int | None = None, note: str = ""
) -> Ticket:
    """Manual (re)assignment by a supervisor or a lead of the group."""
    _check(ticket, A.ASSIGN)
    if not can_supervise(actor, ticket):
        raise TicketPermissionError(_("Only supervisors and group leads can reassign tickets."))
    if not is_member(assignee, ticket.group_id):
        raise TicketError(_("The person must be a member of the ticket's group."))
    previous = ticket.assignee_id
    with transaction.atomic():
        ticket.assignee = assignee
        if ticket.status in (S.NEW, S.WAITING_HOURS):
            ticket.status = S.ASSIGNED
        ticket.assigned_at = timezone.now()
        _save(ticket, ["assignee", "status", "assigned_at"], version=version)
        node = _node(ticket, A.REASSIGN if previous else A.ASSIGN, actor, note.strip())
        _emit("ticket.assigned", ticket, node)
        _ring(ticket, assignee.pk, previous)
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
        _save(ticket, ["assignee", "assigned_at"], version=None)
        node = _node(
            ticket,
            A.REASSIGN,
            None,
            _("Not accepted within %(minutes)s business minutes.")
            % {"minutes": config.reassign_after_minutes},
        )
        _emit("ticket.assigned", ticket, node)
        _ring(ticket, person.pk, previous)
        return person


# --- work on a ticket -------------------------------------------------------------------


def ticket_accept(*, ticket: Ticket, actor: User, version: int | None = None) -> Ticket:
    """The actor takes the ticket and starts on it (counts as the first response)."""
    _check(ticket, A.ACCEPT)
    if ticket.status == S.ASSIGNED and ticket.assignee_id != actor.pk:
        if not can_supervise(actor, ticket):
            raise TicketPermissionError(_("This ticket is assigned to someone else."))
    elif not is_member(actor, ticket.group_id) and not can_supervise(actor, ticket):
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
        _save(
            ticket,
            ["assignee", "status", "assigned_at", "first_response_at", *sla.SLA_FIELDS],
            version=version,
        )
        _emit("ticket.assigned", ticket, _node(ticket, A.ACCEPT, actor))
        _ring(ticket, previous if previous != actor.pk else None)
    return ticket


def ticket_reply(
    *, ticket: Ticket, actor: User, text: str, version: int | None = None
) -> TicketNode:
    """A reply meant for the customer; emailed when the ticket's customer has an address."""
    _check(ticket, A.REPLY)
    _require_work(actor, ticket)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the reply first.")})
    now = timezone.now()
    with transaction.atomic():
        fields = []
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            sla.refresh_derived(ticket, group_calendar_spec(ticket.group_id), now)
            fields = ["first_response_at", *sla.SLA_FIELDS]
        _save(ticket, fields, version=version)
        node = _emit("ticket.commented", ticket, _node(ticket, A.REPLY, actor, text))
        _email_customer(ticket, text)
    return node


def ticket_comment(*, ticket: Ticket, actor: User, text: str) -> TicketNode:
    """An internal note. Comments only add; they never conflict, so no version check."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the comment first.")})
    with transaction.atomic():
        ticket.updated_at = timezone.now()
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=ticket.updated_at)
        node = _emit("ticket.commented", ticket, _node(ticket, A.COMMENT, actor, text))
        _ring(ticket, ticket.assignee_id)
    return node


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
    _check(ticket, A.FORWARD)
    _require_work(actor, ticket)
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
        _save(
            ticket,
            ["group", "assignee", "assigned_at", "status", "hold_reason", *sla.SLA_FIELDS],
            version=version,
        )
        _emit("ticket.forwarded", ticket, _node(ticket, A.FORWARD, actor, note))
        _ring(ticket, previous, *_watcher_ids(ticket))
        _enqueue_assignment(ticket)
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
    _check(ticket, A.HOLD)
    _require_work(actor, ticket)
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
        _save(ticket, ["status", "hold_reason", "assignee", *sla.SLA_FIELDS], version=version)
        node = _node(ticket, A.HOLD, actor, note.strip() or str(Ticket.HoldReason(reason).label))
        _emit("ticket.updated", ticket, node)
    return ticket


def ticket_resume(*, ticket: Ticket, actor: User, version: int | None = None) -> Ticket:
    _check(ticket, A.RESUME)
    _require_work(actor, ticket)
    now = timezone.now()
    with transaction.atomic():
        ticket.status = S.IN_PROGRESS
        ticket.hold_reason = ""
        sla.unpause(ticket, group_calendar_spec(ticket.group_id), now)
        _save(ticket, ["status", "hold_reason", *sla.SLA_FIELDS], version=version)
        _emit("ticket.updated", ticket, _node(ticket, A.RESUME, actor))
    return ticket


def ticket_resolve(*, ticket: Ticket, actor: User, note: str, version: int | None = None) -> Ticket:
    """Done: the resolution note goes on the node (and to the customer by email)."""
    _check(ticket, A.RESOLVE)
    _require_work(actor, ticket)
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
        _save(
            ticket,
            ["status", "hold_reason", "resolved_at", "first_response_at", *sla.SLA_FIELDS],
            version=version,
        )
        node = _node(ticket, A.RESOLVE, actor, note)
        _emit("ticket.resolved", ticket, node)
        _ring(ticket, ticket.submitter_id, *_watcher_ids(ticket))
        if ticket.service_order_id:
            _enqueue_resolution_notice(node)
        else:
            _email_customer(ticket, note, resolved=True)
    return ticket


def ticket_close(*, ticket: Ticket, actor: User, version: int | None = None) -> Ticket:
    _check(ticket, A.CLOSE)
    if not (can_work(actor, ticket) or ticket.submitter_id == actor.pk):
        raise TicketPermissionError(_("Only the submitter, the group or a supervisor can close."))
    with transaction.atomic():
        ticket.status = S.CLOSED
        ticket.closed_at = timezone.now()
        _save(ticket, ["status", "closed_at"], version=version)
        _emit("ticket.closed", ticket, _node(ticket, A.CLOSE, actor))
    return ticket


def ticket_reopen(*, ticket: Ticket, actor: User, note: str, version: int | None = None) -> Ticket:
    """Back to work: to the last assignee if they are still in the group, else the queue.
    The resolution clock starts afresh from the policy (the old deadline is history)."""
    _check(ticket, A.REOPEN)
    if not (can_work(actor, ticket) or ticket.submitter_id == actor.pk):
        raise TicketPermissionError(_("Only the submitter, the group or a supervisor can reopen."))
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why the ticket is reopened.")})
    now = timezone.now()
    with transaction.atomic():
        keep = ticket.assignee_id and is_member(ticket.assignee, ticket.group_id)
        ticket.status = S.IN_PROGRESS if keep else S.NEW
        if not keep:
            ticket.assignee = None
            ticket.assigned_at = None
        ticket.resolved_at = ticket.closed_at = None
        sla.start_clock(ticket, group_calendar_spec(ticket.group_id), now)
        _save(
            ticket,
            ["status", "assignee", "assigned_at", "resolved_at", "closed_at", *sla.SLA_FIELDS],
            version=version,
        )
        _emit("ticket.reopened", ticket, _node(ticket, A.REOPEN, actor, note))
        _ring(ticket, ticket.assignee_id, *_watcher_ids(ticket))
        if not keep:
            _enqueue_assignment(ticket)
    return ticket


def ticket_update(
    *,
    ticket: Ticket,
    actor: User,
    version: int | None = None,
    title: str | None = None,
    description: str | None = None,
    priority: str | None = None,
    category: TicketCategory | None = None,
    answers: dict[str, Any] | None = None,
) -> Ticket:
    """Edit what the ticket says (None leaves a field as it is). Answers merge into the
    stored ones (a None value clears one) and are validated against the type again. A new
    priority re-applies the matching SLA policy. The node lists what changed."""
    _require_work(actor, ticket)
    if not ticket.is_open:
        raise InvalidTransitionError(_("Reopen the ticket to edit it."))
    changes: dict[str, Any] = {}
    if title is not None:
        title = title.strip()
        if not title:
            raise ValidationError({"title": _("A ticket needs a title.")})
        changes["title"] = title
    if description is not None:
        changes["description"] = description.strip()
    if priority is not None:
        if priority not in Priority.values:
            raise TicketError(_("Unknown priority."))
        changes["priority"] = priority
    if category is not None:
        changes["category"] = category
    if answers is not None:
        merged = {**ticket.answers, **answers}
        changes["answers"] = clean_answers(
            ticket.ticket_type, {k: v for k, v in merged.items() if v is not None}
        )
    changed = [name for name, value in changes.items() if getattr(ticket, name) != value]
    if not changed:
        return ticket
    now = timezone.now()
    with transaction.atomic():
        for name in changed:
            setattr(ticket, name, changes[name])
        fields = list(changed)
        if "priority" in changed:
            sla.reapply_policy(ticket, group_calendar_spec(ticket.group_id), now)
            fields += sla.SLA_FIELDS
        _save(ticket, fields, version=version)
        labels = [
            str(getattr(Ticket._meta.get_field(name), "verbose_name", name)) for name in changed
        ]
        _emit("ticket.updated", ticket, _node(ticket, A.UPDATE, actor, ", ".join(labels)))
        _ring(ticket, ticket.assignee_id, *_watcher_ids(ticket))
    return ticket


def ticket_attach(*, ticket: Ticket, actor: User, upload: UploadedFile) -> TicketAttachment:
    """Store a file on the ticket after checking its size and type (by extension)."""
    import os

    name = os.path.basename(upload.name or "file")[:200]
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED_ATTACHMENT_TYPES:
        raise ValidationError(
            {
                "file": _("Files of this type cannot be attached. Allowed: %(types)s")
                % {"types": ", ".join(sorted(ALLOWED_ATTACHMENT_TYPES))}
            }
        )
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": _("A file may be at most 10 MB.")})
    with transaction.atomic():
        attachment = TicketAttachment(
            ticket=ticket,
            name=name,
            size=upload.size,
            content_type=ALLOWED_ATTACHMENT_TYPES[ext],
            uploaded_by=actor,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        _node(ticket, A.ATTACH, actor, name)
    return attachment


def ticket_watch(*, ticket: Ticket, user: User, watch: bool) -> None:
    if watch:
        ticket.watchers.add(user)
    else:
        ticket.watchers.remove(user)


# --- the customer hears back -------------------------------------------------------------

CUSTOMER_SUBJECT = gettext_lazy("Your request #%(id)s: %(title)s")


def _email_customer(ticket: Ticket, text: str, *, resolved: bool = False) -> None:
    """Email the linked customer after commit (the chat channel comes with live chat)."""
    customer = ticket.customer
    if customer is None or not customer.email:
        return
    subject = str(CUSTOMER_SUBJECT) % {"id": ticket.pk, "title": ticket.title}
    body = text
    if resolved:
        body = _("Your request has been resolved:\n\n%(text)s") % {"text": text}
    address = customer.email
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=True)
    )


def _enqueue_resolution_notice(node: TicketNode) -> None:
    from tickets.tasks import notify_resolution

    node_id = node.pk
    transaction.on_commit(lambda: notify_resolution.delay(node_id))


def ticket_notify_resolution(*, node_id: int) -> bool:
    """Tell the customer of a ticket from a chat that it is resolved, in that conversation.

    The note goes into the conversation as a system message through the chat service, so
    it gets its seq and reaches an open widget live. A closed conversation still takes it
    into its history (the widget shows it when the customer comes back), and because the
    customer may never come back, a closed conversation also sends the email when the
    customer has an address. The message carries a key made from the resolve node, so a
    retried task finds it and sends nothing again. Returns whether anything was sent."""
    from workbench.models import Conversation
    from workbench.services.conversations import conversation_notice

    node = (
        TicketNode.objects.select_related("ticket__service_order", "ticket__customer")
        .filter(pk=node_id, action=A.RESOLVE)
        .first()
    )
    service_order = node.ticket.service_order if node is not None else None
    if node is None or service_order is None:
        return False
    ticket = node.ticket
    # The customer's language is not known: the site's, not that of whichever agent's
    # request happens to run this task (eager Celery runs it inside that request).
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Your request #%(id)s has been resolved: %(note)s") % {
            "id": ticket.pk,
            "note": node.comment,
        }
    with transaction.atomic():
        message, created = conversation_notice(
            conversation_id=service_order.conversation_id,
            text=text,
            key=f"ticket-resolved-{node.pk}",
        )
        if created:
            closed = (
                Conversation.objects.filter(pk=message.conversation_id)
                .values_list("status", flat=True)
                .first()
            ) == Conversation.Status.CLOSED
            if closed:
                _email_customer(ticket, node.comment, resolved=True)
    return created


# --- SLA sweep -------------------------------------------------------------------------


def _record_event(ticket: Ticket, deadline_kind: str, due: datetime, kind: str) -> SlaEvent | None:
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
        for deadline_kind, due in sla.running_deadlines(ticket).items():
            if now >= due:
                kind = SlaEvent.Kind.BREACH
            elif now >= sla.reminder_at(ticket, spec, due):
                kind = SlaEvent.Kind.REMINDER
            else:
                continue
            event = _record_event(ticket, deadline_kind, due, kind)
            if event is None:
                continue
            created.append(event)
            label = SlaEvent.Deadline(deadline_kind).label
            node = _node(
                ticket,
                A.SLA_BREACH if kind == SlaEvent.Kind.BREACH else A.SLA_REMINDER,
                None,
                f"{label}: {timezone.localtime(due):%Y-%m-%d %H:%M}",
            )
            # In the transaction of the event's unique row, like the node: a retried or
            # concurrent check that finds the row emits nothing, so once per deadline.
            _emit(
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
            from tickets.tasks import deliver_sla_event

            transaction.on_commit(partial(deliver_sla_event.delay, event.pk))
        # Next look: the next reminder/deadline ahead, or nothing when all are handled.
        ahead = []
        for due in sla.running_deadlines(ticket).values():
            warn = sla.reminder_at(ticket, spec, due)
            ahead += [t for t in (warn, due) if t > now]
        Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=min(ahead) if ahead else None)
    if reassign and ticket.status in (S.ASSIGNED, S.IN_PROGRESS) and ticket.assignee_id:
        _reassign_on_breach(ticket)
    return created


def _reassign_on_breach(ticket: Ticket) -> None:
    with transaction.atomic():
        fresh = Ticket.objects.select_for_update().get(pk=ticket.pk)
        person = pick_assignee(fresh, exclude=[fresh.assignee_id] if fresh.assignee_id else [])
        if person is None:
            return
        previous = fresh.assignee_id
        fresh.assignee = person
        fresh.status = S.ASSIGNED
        fresh.assigned_at = timezone.now()
        _save(fresh, ["assignee", "status", "assigned_at"], version=None)
        node = _node(fresh, A.REASSIGN, None, _("SLA breached: reassigned by policy."))
        _emit("ticket.assigned", fresh, node)
        _ring(fresh, person.pk, previous)


def sla_event_recipients(event: SlaEvent) -> list[User]:
    """Reminders go to the assignee (the group's leads if nobody holds it); breaches to
    the assignee and the leads."""
    ticket = event.ticket
    leads = list(
        User.objects.filter(
            group_memberships__group_id=ticket.group_id,
            group_memberships__role=GroupMembership.Role.LEAD,
            is_active=True,
        )
    )
    people: list[User] = []
    if ticket.assignee_id and ticket.assignee is not None:
        people.append(ticket.assignee)
    if event.kind == SlaEvent.Kind.BREACH or not people:
        people += [p for p in leads if p.pk != ticket.assignee_id]
    return people


def sla_event_deliver(*, event_id: int) -> bool:
    """Send one event live and by email, once: the row is locked and marked delivered in
    the same transaction; a second run finds it delivered and does nothing."""
    with transaction.atomic():
        event = (
            SlaEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("ticket", "ticket__assignee")
            .filter(pk=event_id, delivered_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        ticket = event.ticket
        recipients = sla_event_recipients(event)
        subject = (
            _("SLA breached on ticket #%(id)s: %(title)s")
            if event.kind == SlaEvent.Kind.BREACH
            else _("SLA deadline soon on ticket #%(id)s: %(title)s")
        ) % {"id": ticket.pk, "title": ticket.title}
        body = _("%(deadline)s deadline: %(due)s") % {
            "deadline": event.get_deadline_kind_display(),
            "due": f"{timezone.localtime(event.deadline):%Y-%m-%d %H:%M}",
        }
        link = settings.KEFU_SITE_URL.rstrip("/") + reverse("tickets:detail", args=[ticket.pk])
        body = f"{body}\n\n{link}\n"
        for person in recipients:
            broadcast_on_commit(
                f"user.{person.pk}",
                {"type": "ticket.sla", "ticket": ticket.pk, "kind": event.kind},
            )
        addresses = [p.email for p in recipients if p.email]
        if addresses:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
        event.delivered_at = timezone.now()
        event.save(update_fields=["delivered_at"])
    return True
