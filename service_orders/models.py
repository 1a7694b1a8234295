"""Service orders (服务单): the permanent record of every conversation."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ServiceOrder(models.Model):
    """One per conversation, created in the same transaction. Metrics are in seconds and are
    filled by service_orders.services at acceptance, first response and close:

    - wait: started → accepted (how long the customer waited for a person)
    - first response: started → first agent message (what the customer experienced)
    - handle: accepted → closed
    - average agent response: mean over each customer turn of (first customer message of
      the turn → the agent message that answered it)
    """

    conversation = models.OneToOneField(
        "workbench.Conversation",
        on_delete=models.PROTECT,
        related_name="service_order",
        verbose_name=_("conversation"),
    )
    channel = models.ForeignKey(
        "workbench.ChannelAccount",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("channel"),
    )
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_orders",
        verbose_name=_("shop"),
    )
    customer = models.ForeignKey(
        "commerce.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_orders",
        verbose_name=_("customer"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_orders",
        verbose_name=_("agent"),
        help_text=_("The last agent who held the conversation."),
    )
    group = models.ForeignKey(
        "agents.SkillGroup",
        on_delete=models.PROTECT,
        related_name="service_orders",
        verbose_name=_("skill group"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("wait (s)"), null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(
        _("first response (s)"), null=True, blank=True
    )
    handle_seconds = models.PositiveIntegerField(_("handle time (s)"), null=True, blank=True)
    customer_messages = models.PositiveIntegerField(_("customer messages"), default=0)
    agent_messages = models.PositiveIntegerField(_("agent messages"), default=0)
    avg_agent_response_seconds = models.PositiveIntegerField(
        _("average agent response (s)"), null=True, blank=True
    )
    issue_type = models.ForeignKey(
        "service_orders.IssueType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_orders",
        verbose_name=_("issue type"),
    )
    summary = models.TextField(_("summary"), blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="serviceorder_rating_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"SO{self.pk:08d}"

    shop_scope_path = "shop"


class TransferStep(models.Model):
    """One step of a service order's transfer path: who or which group held it, from when."""

    class Kind(models.TextChoices):
        QUEUED = "queued", _("Queued")
        ROUTED = "routed", _("Routed")
        ACCEPTED = "accepted", _("Accepted")
        TRANSFERRED = "transferred", _("Transferred")
        CLOSED = "closed", _("Closed")

    service_order = models.ForeignKey(
        ServiceOrder,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("service order"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    group = models.ForeignKey(
        "agents.SkillGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("skill group"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("transfer step")
        verbose_name_plural = _("transfer path")
        ordering = ["service_order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%H:%M:%S}"

    shop_scope_path = "service_order__shop"


class IssueType(models.Model):
    """What a conversation was about (问题类型), chosen by the agent when closing it."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("issue type")
        verbose_name_plural = _("issue types")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
