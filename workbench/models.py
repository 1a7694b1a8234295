"""Live chat: visitors, conversations (会话) and their messages."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visitor(models.Model):
    """Someone writing from a chat channel. Anonymous until the shop's server vouches for them.

    The visitor token is a bearer secret held by the customer's browser; only its SHA-256
    is stored, so a database leak does not let anyone speak as a visitor.
    """

    channel = models.ForeignKey(
        "workbench.ChannelAccount",
        on_delete=models.PROTECT,
        related_name="visitors",
        verbose_name=_("channel"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "commerce.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visitors",
        verbose_name=_("customer"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")

    def __str__(self) -> str:
        if self.customer_id:
            return str(self.customer)
        return str(_("Visitor #%(id)s") % {"id": self.pk})

    shop_scope_path = "channel__shop"


class Conversation(models.Model):
    """One contact of a customer over one channel, from first message to close (会话)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    channel = models.ForeignKey(
        "workbench.ChannelAccount",
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("channel"),
    )
    # Copied from the channel at start: the tenant boundary must not move if the channel does.
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("shop"),
    )
    visitor = models.ForeignKey(
        Visitor, on_delete=models.PROTECT, related_name="conversations", verbose_name=_("visitor")
    )
    customer = models.ForeignKey(
        "commerce.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("customer"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("agent"),
    )
    group = models.ForeignKey(
        "agents.SkillGroup",
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("skill group"),
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    # The highest seq handed out; message_send increments it under the row lock.
    last_seq = models.PositiveIntegerField(_("last sequence number"), default=0)
    customer_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["group", "status", "created_at"], name="conv_queue_idx"),
            models.Index(fields=["agent", "status"], name="conv_agent_load_idx"),
            models.Index(fields=["visitor", "status"], name="conv_visitor_idx"),
        ]
        constraints = [
            # An active conversation always has its agent; a queued one never has one.
            models.CheckConstraint(
                condition=~models.Q(status="active") | models.Q(agent__isnull=False),
                name="conversation_active_has_agent",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="queued") | models.Q(agent__isnull=True),
                name="conversation_queued_has_no_agent",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Conversation #%(id)s") % {"id": self.pk})

    shop_scope_path = "shop"

    def group_name(self) -> str:
        """The channel-layer group that hears this conversation's events."""
        return f"conv.{self.pk}"


class Message(models.Model):
    """One message. `seq` orders a conversation's messages without gaps; the client's own id
    makes sending idempotent (a retry returns the message stored the first time)."""

    class Sender(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    seq = models.PositiveIntegerField(_("sequence number"))
    client_id = models.CharField(_("client id"), max_length=64, null=True, blank=True)
    # The customer who wrote it (customer messages only): a customer's client id is unique
    # across all their conversations, so a resend whose first attempt landed in a
    # conversation closed since is caught by the index, not by a lookup before each send.
    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("visitor"),
    )
    sender = models.CharField(_("sender"), max_length=10, choices=Sender.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    text = models.TextField(_("text"), blank=True)
    attachment = models.FileField(
        _("attachment"), upload_to="chat/%Y/%m/", max_length=200, blank=True
    )
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        # By the column, not the relation: ordering by "conversation" would join it.
        ordering = ["conversation_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="message_unique_client_id",
            ),
            models.UniqueConstraint(
                fields=["visitor", "client_id"],
                condition=models.Q(
                    sender="customer", visitor__isnull=False, client_id__isnull=False
                ),
                name="message_unique_visitor_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id}.{self.seq}"

    shop_scope_path = "conversation__shop"


# --- Chat channels (渠道账号): where conversations come from.


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

    def clean(self) -> None:
        # Conversations of this channel wait in the default group's queue: its members must
        # be able to open them (a platform group serves every shop; a shop's group only
        # its own shop's channels).
        group_shop = self.default_group.shop_id if self.default_group_id else None
        if group_shop is not None and group_shop != self.shop_id:
            raise ValidationError(
                {"default_group": _("Pick a platform group or a group of this channel's shop.")}
            )

    shop_scope_path = "shop"
