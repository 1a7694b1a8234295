"""Outbound webhooks: endpoints, the allow-list of private hosts, the delivery log."""

from __future__ import annotations

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import (
    URLValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.webhook_events import WEBHOOK_EVENTS


def normalise_host(host: str) -> str:
    return host.strip().lower().strip("[]").rstrip(".")


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- Outbound webhooks ------------------------------------------------------------------


class WebhookAllowedHost(models.Model):
    """A host an admin allows webhooks to reach although it resolves to a private address.

    Without an entry here, endpoints on loopback, link-local, private or reserved addresses
    are refused (SSRF guard). Matching is on the exact host name (or IP literal) of the URL.
    """

    host = models.CharField(
        _("host"),
        max_length=253,
        unique=True,
        help_text=_("Exact host name or IP address as written in the URL, e.g. crm.internal."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook allowed host")
        verbose_name_plural = _("webhook allowed hosts")
        ordering = ["host"]

    def __str__(self) -> str:
        return self.host

    def clean(self) -> None:
        # Host names compare case-insensitively; store them one way so lookups are exact.
        self.host = normalise_host(self.host)


class WebhookEndpoint(models.Model):
    """A receiver of signed event notifications. A shop's endpoint gets only that shop's events."""

    name = models.CharField(_("name"), max_length=100)
    url = models.CharField(
        _("URL"),
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("Where events are POSTed as JSON. Use https outside a private network."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=new_webhook_secret,
        help_text=_("Shared with the receiver, who checks X-Kefu-Signature with it."),
    )
    previous_secret = models.CharField(
        _("previous signing secret"),
        max_length=100,
        blank=True,
        help_text=_(
            "While rotating: requests carry a signature with each secret. Clear it once the "
            "receiver uses the new one."
        ),
    )
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_("Events this endpoint receives."),
    )
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        verbose_name=_("shop"),
        help_text=_("Empty: a platform endpoint that receives every shop's events."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = [e for e in self.event_types or [] if e not in WEBHOOK_EVENTS]
        if not isinstance(self.event_types, list) or unknown:
            raise ValidationError(
                {"event_types": _("Unknown event types: %(names)s") % {"names": unknown}}
            )

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])

    shop_scope_path = "shop"


class WebhookDelivery(models.Model):
    """One event for one endpoint, with its attempts: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed, will retry")
        GAVE_UP = "gave_up", _("Gave up")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event_type = models.CharField(_("event type"), max_length=60)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, db_index=True)
    payload = models.JSONField(_("payload"), default=dict)
    event_shop_id = models.BigIntegerField(_("event shop id"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # A claim: the worker that set it owns the attempt until then; nobody else sends.
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(
        _("last response code"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    last_response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "succeeded", "failed", "gave_up"]),
                name="webhookdelivery_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint} #{self.pk}"

    shop_scope_path = "endpoint__shop"
