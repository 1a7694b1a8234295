"""Configuration admins edit in Django admin: chat channels and issue types."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_channel_key() -> str:
    return secrets.token_urlsafe(12)


class ChannelAccount(models.Model):
    """A web-chat entry point (渠道账号): the public key a shop pastes into its site.

    The key is public (it sits in the page source); it only says which shop and skill group
    a new conversation belongs to. The identity secret is private: the shop's server uses it
    to sign its logged-in customer's id (HMAC-SHA256) so the widget may show their history.
    """

    name = models.CharField(_("name"), max_length=80)
    key = models.SlugField(
        _("public channel key"),
        max_length=40,
        unique=True,
        default=new_channel_key,
        help_text=_("Goes into the widget's data-channel attribute. Public."),
    )
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="channel_accounts",
        verbose_name=_("shop"),
        help_text=_("Empty for a platform channel served by the platform's own agents."),
    )
    default_group = models.ForeignKey(
        "agents.SkillGroup",
        on_delete=models.PROTECT,
        related_name="channel_accounts",
        verbose_name=_("default skill group"),
        help_text=_("New conversations from this channel wait in this group's queue."),
    )
    greeting = models.TextField(
        _("greeting"), blank=True, help_text=_("Shown to the customer when a conversation starts.")
    )
    identity_secret = models.CharField(
        _("identity verification secret"),
        max_length=128,
        blank=True,
        help_text=_(
            "Shared with the shop's server, which sends HMAC-SHA256(secret, customer id) with "
            "the customer id. Empty: customers are never identified on this channel."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def shop_scope_q(cls, shop_ids: frozenset[int]) -> models.Q:
        return models.Q(shop_id__in=shop_ids)


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
