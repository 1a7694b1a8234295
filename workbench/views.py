from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents.models import AgentProfile
from agents.sections import section_view
from agents.selectors import seat_for
from commerce.selectors import (
    customer_get_for,
    customer_orders_for,
    customer_search_for,
    order_search_for,
)
from core.types import AuthedRequest
from service_orders.models import IssueType
from service_orders.services import answered_turns
from workbench import selectors
from workbench.chat_views import attachment_rules, upload_response
from workbench.models import Message
from workbench.payloads import conversation_list_item, message_payload
from workbench.services.messages import MAX_ATTACHMENT_BYTES


@section_view("workbench")
def index(request: AuthedRequest) -> HttpResponse:
    """The agent's one screen: session list, conversation, customer panel, quick send."""
    profile = seat_for(user=request.user)
    targets = selectors.transfer_targets_for(user=request.user)
    return render(
        request,
        "workbench/index.html",
        {
            "profile": profile,
            "load": selectors.agent_load(request.user.pk),
            "states": AgentProfile.State.choices,
            "issue_types": IssueType.objects.filter(is_active=True),
            "transfer_groups": targets["groups"],
            "transfer_agents": [a for a in targets["agents"] if a.pk != request.user.pk],
            "attachment_rules": attachment_rules(),
            "labels": workbench_labels(),
        },
    )


def workbench_labels() -> dict[str, str]:
    return {
        "accept": _("Accept"),
        "waiting_for": _("waiting %(t)s"),
        "no_waiting": _("Nobody is waiting."),
        "no_active": _("No active conversations. Accept one from the waiting list."),
        "no_closed": _("None closed today yet."),
        "visitor": _("Visitor #%(id)s"),
        "duration": _("Duration"),
        "exchanges": _("Exchanges"),
        "waited": _("Waited before pickup"),
        "status_queued": _("Waiting"),
        "status_active": _("Active"),
        "status_closed": _("Closed"),
        "typing": _("The customer is typing…"),
        "read": _("Read"),
        "sending": _("Sending…"),
        "failed": _("Could not send: %(reason)s"),
        "live": _("Live"),
        "offline": _("Reconnecting…"),
        "denied": _("Disconnected: sign in again and reload the page."),
        "not_yours": _("You are watching this conversation; only the agent holding it can reply."),
        "closed_note": _("This conversation is closed."),
        "too_large": _("Files may be at most %(mb)d MB.")
        % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
        "bad_type": _("Only images (PNG, JPEG, GIF, WebP), PDF and plain text files can be sent."),
        "rated": _("Rated %(n)s/5"),
        "you": _("You"),
        "customer": _("Customer"),
    }


@require_GET
@section_view("workbench")
def api_lists(request: AuthedRequest) -> JsonResponse:
    lists = selectors.workbench_lists_for(user=request.user)
    return JsonResponse(
        {name: [conversation_list_item(c) for c in rows] for name, rows in lists.items()}
    )


@require_GET
@section_view("workbench")
def api_conversation(request: AuthedRequest, pk: int) -> JsonResponse:
    conversation = selectors.conversation_get_for(user=request.user, pk=pk)
    messages = list(
        Message.objects.filter(conversation=conversation).select_related("agent").order_by("seq")
    )
    order = getattr(conversation, "service_order", None)
    data = conversation_list_item(conversation)
    data.update(
        {
            "customer_read_seq": conversation.customer_read_seq,
            "mine": conversation.agent_id == request.user.pk,
            "agent_name": conversation.agent.name if conversation.agent else "",
            "rating": order.rating if order else None,
            "service_order_id": order.pk if order else None,
            "exchanges": answered_turns(messages),
        }
    )
    return JsonResponse(
        {
            "conversation": data,
            "messages": [
                message_payload(m, agent_name=m.agent.name if m.agent_id and m.agent else "")
                for m in messages
            ],
        }
    )


@section_view("workbench")
def customer_panel(request: AuthedRequest, pk: int) -> HttpResponse:
    """Zone three: who the customer is, their orders and logistics, their past contacts."""
    conversation = selectors.conversation_get_for(user=request.user, pk=pk)
    customer = conversation.customer
    orders: Any = []
    history: Any = []
    if customer is not None:
        customer = customer_get_for(user=request.user, pk=customer.pk) if customer else None
    if customer is not None:
        orders = customer_orders_for(user=request.user, customer=customer)[:10]
        history = selectors.customer_conversations_for(user=request.user, customer=customer)
    else:
        history = selectors.visitor_conversations_for(
            user=request.user, visitor_id=conversation.visitor_id
        )
    return render(
        request,
        "workbench/_customer_panel.html",
        {"conversation": conversation, "customer": customer, "orders": orders, "history": history},
    )


@require_POST
@section_view("workbench")
def api_upload(request: AuthedRequest, pk: int) -> JsonResponse:
    conversation = selectors.conversation_get_for(user=request.user, pk=pk)
    return upload_response(
        request, conversation_id=conversation.pk, sender=Message.Sender.AGENT, agent=request.user
    )


@section_view("info_query")
def info_query(request: AuthedRequest) -> HttpResponse:
    """One box: a customer by name, phone, id or email; an order by its number."""
    query = request.GET.get("q", "").strip()[:100]
    customers = customer_search_for(user=request.user, query=query)
    orders = order_search_for(user=request.user, query=query)
    return render(
        request,
        "workbench/info_query.html",
        {"query": query, "customers": customers, "orders": orders},
    )


@section_view("info_query")
def customer_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = customer_get_for(user=request.user, pk=pk)
    orders = customer_orders_for(user=request.user, customer=customer)
    return render(
        request, "workbench/customer_detail.html", {"customer": customer, "orders": orders}
    )
