"""What admins configure for tickets: types and their fields, categories, SLA policies."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from agents.models import SkillGroup


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketCategory(models.Model):
    """A reporting bucket for tickets (logistics, refund, complaint…)."""

    name = models.CharField(_("name"), max_length=80, unique=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketType(models.Model):
    """A template: the fields a submitter fills in once, and where the ticket goes."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    default_group = models.ForeignKey(
        SkillGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default group"),
    )
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="types",
        verbose_name=_("default category"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class TicketField(models.Model):
    """One field of a ticket type's form."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        LONG_TEXT = "long_text", _("Long text")
        NUMBER = "number", _("Number")
        CHOICE = "choice", _("Choice")
        DATE = "date", _("Date")
        ORDER_NO = "order_no", _("Order number")
        AMOUNT = "amount", _("Amount")

    ticket_type = models.ForeignKey(
        TicketType, on_delete=models.CASCADE, related_name="fields", verbose_name=_("ticket type")
    )
    key = models.SlugField(_("key"), max_length=40, help_text=_("Stable name in stored answers."))
    label = models.CharField(_("label"), max_length=80)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(_("required"), default=False)
    options = models.TextField(
        _("options"), blank=True, help_text=_("For a choice: one option per line.")
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("ticket field")
        verbose_name_plural = _("ticket fields")
        ordering = ["ticket_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket_type", "key"], name="ticketfield_unique_key")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def option_list(self) -> list[str]:
        return [line.strip() for line in self.options.splitlines() if line.strip()]


class SlaPolicy(models.Model):
    """First-response and resolution targets, in business minutes of the group's calendar."""

    name = models.CharField(_("name"), max_length=80)
    ticket_type = models.ForeignKey(
        TicketType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("ticket type"),
        help_text=_("Empty: every type."),
    )
    priority = models.CharField(
        _("priority"),
        max_length=10,
        choices=Priority.choices,
        blank=True,
        help_text=_("Empty: every priority."),
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 365)],
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolve within (business minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 365)],
    )
    remind_before_minutes = models.PositiveIntegerField(
        _("remind before the deadline (business minutes)"), default=30
    )
    reassign_on_breach = models.BooleanField(_("reassign on breach"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
