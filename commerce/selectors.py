"""Reads of customers and orders, always scoped to what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agents.access import get_for, restrict
from commerce.models import Customer, Order


def customer_list_for(*, user: Any) -> QuerySet[Customer]:
    return restrict(Customer.objects.all(), user=user)


def customer_get_for(*, user: Any, pk: int) -> Customer:
    return get_for(Customer.objects.all(), user=user, pk=pk)


def order_list_for(*, user: Any) -> QuerySet[Order]:
    return restrict(Order.objects.select_related("shop", "customer"), user=user)


def customer_orders_for(*, user: Any, customer: Customer) -> QuerySet[Order]:
    """A customer's orders the user may see: a merchant sees only its own shops' orders."""
    return (
        order_list_for(user=user)
        .filter(customer=customer)
        .prefetch_related("shipments", "after_sales")
    )


def customer_search_for(*, user: Any, query: str, limit: int = 20) -> list[Customer]:
    query = query.strip()
    if not query:
        return []
    condition = (
        Q(external_id=query) | Q(phone=query) | Q(email__iexact=query) | Q(name__icontains=query)
    )
    return list(customer_list_for(user=user).filter(condition)[:limit])


def order_search_for(*, user: Any, query: str, limit: int = 20) -> list[Order]:
    query = query.strip()
    if not query:
        return []
    return list(order_list_for(user=user).filter(order_no__iexact=query)[:limit])
