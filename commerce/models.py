"""Customers, and the built-in demo implementation of the commerce backend.

A real deployment reads orders from its shop system; these tables back the demo and
tests, and hold what Kefu itself needs to know about a customer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import Shop


class Customer(models.Model):
    """A person who writes in. Platform-wide: one buyer may deal with many shops."""

    class Tier(models.TextChoices):
        NORMAL = "normal", _("Normal")
        VIP = "vip", _("VIP")

    external_id = models.CharField(
        _("customer id"), max_length=64, help_text=_("The id in the shop system.")
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.NORMAL)
    membership_level = models.CharField(_("membership level"), max_length=40, blank=True)
    points = models.PositiveIntegerField(_("points"), default=0)
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="own_customers",
        verbose_name=_("shop"),
        help_text=_(
            "Set for a customer known to one shop alone (signed in on that shop's channel); "
            "empty for the marketplace-wide customer."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One marketplace-wide customer per id, and one per id within each shop.
            models.UniqueConstraint(
                fields=["external_id"],
                condition=models.Q(shop__isnull=True),
                name="customer_unique_marketplace_id",
            ),
            models.UniqueConstraint(
                fields=["shop", "external_id"],
                condition=models.Q(shop__isnull=False),
                name="customer_unique_shop_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id

    @classmethod
    def shop_scope_q(cls, shop_ids: frozenset[int]) -> Q:
        # A merchant sees the customers who bought from one of its shops, and its own.
        return Q(shop_id__in=shop_ids) | Q(
            Exists(Order.objects.filter(customer=OuterRef("pk"), shop_id__in=shop_ids))
        )


class Order(models.Model):
    """An order in the (demo) shop system."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    order_no = models.CharField(_("order number"), max_length=40, unique=True)
    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="orders", verbose_name=_("shop")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_orders",
        verbose_name=_("owner"),
        help_text=_("The staff member responsible for this order, if any."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    items = models.JSONField(_("items"), default=list, blank=True)
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-placed_at"], name="order_customer_recent")]

    def __str__(self) -> str:
        return self.order_no

    shop_scope_path = "shop"


class Shipment(models.Model):
    """Logistics for an order: carrier, tracking number, latest status."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="shipments", verbose_name=_("order")
    )
    carrier = models.CharField(_("carrier"), max_length=60)
    tracking_no = models.CharField(_("tracking number"), max_length=60)
    status = models.CharField(_("status"), max_length=120)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_no}"

    shop_scope_path = "order__shop"


class AfterSale(models.Model):
    """A refund, return or exchange request on an order (售后)."""

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refund")
        RETURN = "return", _("Return")
        EXCHANGE = "exchange", _("Exchange")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        COMPLETED = "completed", _("Completed")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="after_sales", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=0)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("after-sale request")
        verbose_name_plural = _("after-sale requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.order}"

    shop_scope_path = "order__shop"
