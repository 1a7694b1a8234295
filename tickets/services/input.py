"""One resolver of what a person asks a new ticket to link, for the page and the API alike.

The create page (tickets.views) and the API (tickets.api.views) both hand their parsed input
to ticket_input_resolve, which turns ids and numbers into the objects the user may use:
group, person, category, customer, order, service order, and the type's answers. Whatever
the user may not see is a field error with the same words as something that does not
exist, so an error never tells whether another shop's order or chat exists. The page shows
the errors on its form; the API answers 400 with the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from agents.capabilities import may
from agents.models import SkillGroup, User
from commerce.models import Customer, Order
from commerce.selectors import customer_list_for, order_list_for
from service_orders.models import ServiceOrder
from service_orders.selectors import service_order_list_for
from tickets.fields import clean_answers
from tickets.models import TicketCategory, TicketField, TicketType
from tickets.selectors import group_members_for, groups_for_submit, ticket_types_for


@dataclass(frozen=True)
class ResolvedInput:
    """The objects a create links, each one the user may use (None: not given)."""

    group: SkillGroup | None = None
    assignee: User | None = None
    category: TicketCategory | None = None
    customer: Customer | None = None
    order: Order | None = None
    service_order: ServiceOrder | None = None
    answers: dict[str, Any] = field(default_factory=dict)


def ticket_type_resolve(*, user: Any, pk: int) -> TicketType:
    found = ticket_types_for(user=user).filter(pk=pk).first()
    if found is None:
        raise ValidationError({"ticket_type": _("No active ticket type with this id.")})
    return found


def _visible_service_order(user: Any, pk: int) -> ServiceOrder | None:
    # The linker must be allowed to read service orders (the draft quotes the chat), and
    # the service order must be in their shops.
    if not may(user, "view_service_orders"):
        return None
    return service_order_list_for(user=user).filter(pk=pk).first()


def _no_service_order() -> str:
    return _("No service order with this id that you may see.")


def service_order_resolve(*, user: Any, pk: int) -> ServiceOrder:
    """A service order the user may link; otherwise an error as if none existed."""
    found = _visible_service_order(user, pk)
    if found is None:
        raise ValidationError({"service_order": _no_service_order()})
    return found


def _order_no_field(ticket_type: TicketType) -> TicketField | None:
    """The type's order-number field, if it asks for the order itself."""
    for type_field in ticket_type.fields.all():
        if type_field.kind == TicketField.Kind.ORDER_NO:
            return type_field
    return None


def ticket_input_resolve(
    *, user: Any, ticket_type: TicketType, data: Mapping[str, Any]
) -> ResolvedInput:
    """Resolve a create's references for `user`. `data` holds what the person gave:
    `group`, `assignee`, `category`, `service_order` (ids or None), `customer` (external id
    or phone), `order_no` and `answers` (by field key). Raises ValidationError keyed by
    those names (an answer's error by its field key) with every problem found at once."""
    errors: dict[str, str] = {}

    group = None
    if data.get("group"):
        group = groups_for_submit(user=user).filter(pk=data["group"]).first()
        if group is None:
            errors["group"] = _("No group with this id that you may address.")

    assignee = None
    if data.get("assignee") and "group" not in errors:
        group_id = group.pk if group else ticket_type.default_group_id
        assignee = (
            group_members_for(user=user, group_id=group_id or 0).filter(pk=data["assignee"]).first()
        )
        if assignee is None:
            errors["assignee"] = _("The person must be a member of the group.")

    category = None
    if data.get("category"):
        category = TicketCategory.objects.filter(pk=data["category"]).first()
        if category is None:
            errors["category"] = _("No category with this id.")

    service_order = None
    if data.get("service_order"):
        service_order = _visible_service_order(user, data["service_order"])
        if service_order is None:
            errors["service_order"] = _no_service_order()

    answers: dict[str, Any] = {}
    answer_errors: dict[str, Any] = {}
    try:
        answers = clean_answers(ticket_type, dict(data.get("answers") or {}))
    except ValidationError as error:
        answer_errors = error.error_dict

    customer = None
    query = str(data.get("customer") or "").strip()
    if query:
        chat_customer = service_order.customer if service_order is not None else None
        if chat_customer is not None and query == chat_customer.external_id:
            # The conversation's own customer: the service order vouches for them.
            customer = chat_customer
        else:
            customer = (
                customer_list_for(user=user).filter(Q(external_id=query) | Q(phone=query)).first()
            )
            if customer is None:
                errors["customer"] = _("No customer with this id or phone that you may see.")

    # The order to link: the order number given, else the answer to the type's order field.
    # A number typed to link an order must name one the user may see. An answer is data in
    # its own right (an order of a platform Kefu does not know, say): it links the order
    # when the user may see one by that number, and otherwise stays just the answer.
    order = None
    typed = str(data.get("order_no") or "").strip()
    order_field = _order_no_field(ticket_type)
    answered = str(answers.get(order_field.key, "")) if order_field is not None else ""
    if typed or answered:
        order = order_list_for(user=user).filter(order_no__iexact=typed or answered).first()
        if order is None and typed:
            errors["order_no"] = _("No order with this number that you may see.")

    if errors or answer_errors:
        raise ValidationError({**answer_errors, **{k: [v] for k, v in errors.items()}})
    return ResolvedInput(
        group=group,
        assignee=assignee,
        category=category,
        customer=customer,
        order=order,
        service_order=service_order,
        answers=answers,
    )
