"""The one registry of outbound webhook event types.

An endpoint subscribes to names from here, and `webhook_emit` refuses any other name, so a
typo in an emitting app fails loudly in its tests instead of silently reaching nobody.
Add a new event here first, then emit it from the owning app's service.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

WEBHOOK_EVENTS: dict[str, str | Promise] = {
    "ticket.created": _("Ticket created"),
    "ticket.updated": _("Ticket updated"),
    "ticket.assigned": _("Ticket assigned to a person"),
    "ticket.commented": _("Comment or reply on a ticket"),
    "ticket.forwarded": _("Ticket forwarded to another group"),
    "ticket.resolved": _("Ticket resolved"),
    "ticket.closed": _("Ticket closed"),
    "ticket.reopened": _("Ticket reopened"),
    "ticket.sla_warning": _("SLA deadline of a ticket is near"),
    "ticket.sla_breached": _("SLA deadline of a ticket was missed"),
    "conversation.closed": _("Conversation closed"),
}

# Sent only by the admin's "send test event" action, to one endpoint, whatever it subscribes.
TEST_EVENT = "webhook.test"


def event_choices() -> list[tuple[str, str | Promise]]:
    return list(WEBHOOK_EVENTS.items())


def is_known_event(name: str) -> bool:
    return name in WEBHOOK_EVENTS
