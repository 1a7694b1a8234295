"""Per-user and per-integration records around tickets: saved list views, API idempotency keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    """A user's named ticket-list filter (the querystring)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_ticket_views",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=60)
    querystring = models.CharField(_("filter"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="savedview_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ApiIdempotencyKey(models.Model):
    """An API create remembered by (user, Idempotency-Key): a retry gets the first answer.

    The row is inserted in the same transaction that creates the ticket, so a concurrent
    twin waits on the unique index and then reads the committed answer; a failed create
    rolls its row back and the key may be used again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response = models.JSONField(_("response"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("API idempotency key")
        verbose_name_plural = _("API idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="apiidempotencykey_once")
        ]
        indexes = [models.Index(fields=["expires_at"], name="apiidempotencykey_expiry")]

    def __str__(self) -> str:
        return self.key
