"""What ticket events carry outward: the webhook payload and the live doorbells.

The webhook payload is a public contract (docs/webhooks.md); the doorbells carry ids only,
and the page re-reads over HTTP (the database is the record, the socket a doorbell).
"""

from __future__ import annotations

from typing import Any

from agents.models import User
from tickets.models import Ticket, TicketNode


def person_payload(user: User | None) -> dict[str, Any] | None:
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
            "assignee": person_payload(ticket.assignee),
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
            "actor": person_payload(node.actor),
            "group_id": node.group_id,
            "assignee_id": node.assignee_id,
            "status": node.status,
            "comment": node.comment,
            "created_at": node.created_at,
        },
    }


def ticket_doorbell(ticket_id: int, *, kind: str = "ticket.changed") -> dict[str, Any]:
    """A user's socket hears that a ticket changed; the page re-reads it."""
    return {"type": kind, "ticket": ticket_id}


def sla_doorbell(ticket_id: int, *, kind: str) -> dict[str, Any]:
    """A user's socket hears of an SLA reminder or breach (`kind`) on a ticket."""
    return {"type": "ticket.sla", "ticket": ticket_id, "kind": kind}
