"""Reads for the reports, scoped like everything else."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from agents.access import restrict
from agents.models import Shop
from commerce.models import Customer, Order


def shop_summary_for(*, user: Any) -> QuerySet[Shop]:
    """Per shop: customers and orders so far (the first report; more arrive with chat)."""
    return (
        restrict(Shop.objects.all(), user=user)
        .annotate(
            order_count=Count("orders", distinct=True),
            customer_count=Count("orders__customer", distinct=True),
        )
        .order_by("name")
    )


def customer_total_for(*, user: Any) -> int:
    return restrict(Customer.objects.all(), user=user).count()


def order_total_for(*, user: Any) -> int:
    return restrict(Order.objects.all(), user=user).count()
