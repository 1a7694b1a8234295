"""What every ticket write shares: the state machine, the versioned save, the timeline node.

Each transition checks the state machine, writes its node in the same transaction, and
saves with optimistic locking: UPDATE … WHERE id = … AND version = N, bumping the
version. A stale write raises StaleTicketError and changes nothing, so the user reloads
and sees the other person's change instead of silently overwriting it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import F, ForeignKey
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.capabilities import may
from agents.models import User
from core.text import has_control_characters, single_line
from tickets.models import Ticket, TicketNode
from tickets.services.errors import InvalidTransitionError, StaleTicketError, TicketPermissionError

S = Ticket.Status
A = TicketNode.Action
OPEN = frozenset(Ticket.OPEN_STATUSES)

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


def allowed_actions(ticket: Ticket) -> set[str]:
    """The transitions the ticket's status allows now (the detail page shows these)."""
    return {action for action, states in ALLOWED.items() if ticket.status in states}


def check_transition(ticket: Ticket, action: str) -> None:
    if ticket.status not in ALLOWED[action]:
        raise InvalidTransitionError(
            _("A ticket that is “%(status)s” cannot be %(action)s.")
            % {
                "status": ticket.get_status_display(),
                "action": str(A(action).label).lower(),
            }
        )


def require_work(user: User, ticket: Ticket) -> None:
    if not may(user, "work", ticket):
        raise TicketPermissionError(
            _("Only the assignee, members of the group and supervisors can do that.")
        )


def save_versioned(ticket: Ticket, fields: Iterable[str], *, version: int | None) -> None:
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


def node_add(
    ticket: Ticket, action: str, actor: User | None, comment: str = "", when: datetime | None = None
) -> TicketNode:
    """The timeline step of a change, as the ticket stands after it."""
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


def ticket_title_clean(title: str) -> str:
    """A title is one line: line breaks and tabs fold into spaces (a title with a line
    break used to break every email about the ticket); other control characters are
    refused."""
    title = single_line(title)
    if not title:
        raise ValidationError({"title": _("A ticket needs a title.")})
    if has_control_characters(title):
        raise ValidationError({"title": _("The title contains characters that cannot be shown.")})
    return title
