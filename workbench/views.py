from django.http import HttpResponse
from django.shortcuts import render

from agents.models import AgentProfile
from agents.selectors import seat_for
from commerce.selectors import (
    customer_get_for,
    customer_orders_for,
    customer_search_for,
    order_search_for,
)
from core.sections import section_view
from core.types import AuthedRequest


@section_view("workbench")
def index(request: AuthedRequest) -> HttpResponse:
    profile = seat_for(user=request.user)
    groups = request.user.group_memberships.select_related("group", "group__shop")
    return render(
        request,
        "workbench/index.html",
        {"profile": profile, "memberships": groups, "states": AgentProfile.State.choices},
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
