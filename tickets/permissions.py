"""Who may act on a ticket: the object rules behind may(user, action, ticket).

Registered with agents.capabilities.object_rule when the app is ready (tickets.apps), and
asked by services before they change anything and by pages to decide what to offer.
"""

from __future__ import annotations

from agents.capabilities import may, object_rule
from agents.models import User
from agents.selectors import is_group_lead, is_group_member
from tickets.models import Ticket


@object_rule("supervise", Ticket)
def may_supervise_ticket(user: User, ticket: Ticket) -> bool:
    """Supervisors override anywhere in scope; a group's leads within their group."""
    return may(user, "supervise") or is_group_lead(user, ticket.group_id)


@object_rule("work", Ticket)
def may_work_ticket(user: User, ticket: Ticket) -> bool:
    """The assignee, members of the ticket's group and supervisors act on a ticket."""
    return (
        ticket.assignee_id == user.pk
        or is_group_member(user, ticket.group_id)
        or may_supervise_ticket(user, ticket)
    )


@object_rule("accept", Ticket)
def may_accept_ticket(user: User, ticket: Ticket) -> bool:
    """A ticket assigned to someone else is taken only by a supervisor; otherwise any
    member of the group may take it."""
    if ticket.status == Ticket.Status.ASSIGNED and ticket.assignee_id != user.pk:
        return may_supervise_ticket(user, ticket)
    return is_group_member(user, ticket.group_id) or may_supervise_ticket(user, ticket)


@object_rule("close", Ticket)
@object_rule("reopen", Ticket)
def may_settle_ticket(user: User, ticket: Ticket) -> bool:
    """The submitter settles their own request; so does whoever may work the ticket."""
    return ticket.submitter_id == user.pk or may_work_ticket(user, ticket)
