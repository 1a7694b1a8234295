from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from agents.sections import section_view
from core.types import AuthedRequest
from service_orders.filters import ServiceOrderFilter
from service_orders.selectors import (
    keyset_page,
    replay_for,
    service_order_get_for,
    service_order_list_for,
)


@section_view("service_orders")
def service_order_list(request: AuthedRequest) -> HttpResponse:
    filterset = ServiceOrderFilter(
        request.GET, queryset=service_order_list_for(user=request.user), request=request
    )
    rows, next_cursor = keyset_page(filterset.qs, request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "service_orders/list.html",
        {
            "filter": filterset,
            "orders": rows,
            "next_cursor": next_cursor,
            "query": query.urlencode(),
            "first_page": not request.GET.get("after"),
        },
    )


@section_view("service_orders")
def service_order_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The black box: every message, the transfer path and the metrics of one contact."""
    order = service_order_get_for(user=request.user, pk=pk)
    chat_messages, steps = replay_for(order)
    return render(
        request,
        "service_orders/detail.html",
        {"order": order, "chat_messages": chat_messages, "steps": steps},
    )
