"""The tickets of a service order, for the service order's page.

Tickets sit above service orders (a ticket links to the service order it came from), so
the service order page cannot read tickets itself: it leaves a slot, `{% linked_tickets
order %}`, which this app fills.
"""

from typing import Any

from django import template

from agents.capabilities import may
from tickets.selectors import tickets_of_service_order

register = template.Library()


@register.inclusion_tag("tickets/_linked_tickets.html", takes_context=True)
def linked_tickets(context: Any, order: Any) -> dict[str, Any]:
    user = context["request"].user
    if not may(user, "view_tickets"):
        return {"show": False}
    return {
        "show": True,
        "order": order,
        "tickets": list(tickets_of_service_order(user=user, service_order=order)),
    }
