"""What admins configure: outbound webhooks, canned replies and the knowledge base."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import SkillGroup
from settings_app.webhook_events import WEBHOOK_EVENTS


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


# --- Canned replies (常用语) ---------------------------------------------------------------

shortcut_validator = RegexValidator(
    r"^/[\w\-]{1,30}$",
    _("A shortcut starts with / followed by letters, digits, - or _ (e.g. /refund)."),
)


class CannedReply(models.Model):
    """Saved text an agent sends in one click: personal, for a skill group, or shared.

    Shared replies without a shop are platform-wide; shared replies with a shop are for
    every agent of that shop (a merchant's team).
    """

    class Scope(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        GROUP = "group", _("Skill group")
        SHARED = "shared", _("Shared")

    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))
    shortcut = models.CharField(
        _("shortcut"), max_length=32, blank=True, validators=[shortcut_validator]
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("owner"),
        help_text=_("For personal replies only."),
    )
    group = models.ForeignKey(
        "agents.SkillGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("skill group"),
        help_text=_("For skill-group replies only."),
    )
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("shop"),
        help_text=_("Empty for the platform. A group reply takes its group's shop."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["-usage_count", "title"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="personal", owner__isnull=False, group__isnull=True)
                    | models.Q(scope="group", owner__isnull=True, group__isnull=False)
                    | models.Q(scope="shared", owner__isnull=True, group__isnull=True)
                ),
                name="cannedreply_scope_matches_owner_group",
            )
        ]
        indexes = [models.Index(fields=["scope", "is_active"], name="cannedreply_scope")]

    def __str__(self) -> str:
        return f"{self.shortcut} {self.title}".strip()

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.scope == self.Scope.PERSONAL:
            if not self.owner_id:
                errors["owner"] = _("A personal reply needs an owner.")
            if self.group_id:
                errors["group"] = _("A personal reply has no skill group.")
        elif self.scope == self.Scope.GROUP:
            if not self.group_id:
                errors["group"] = _("A skill-group reply needs a skill group.")
            if self.owner_id:
                errors["owner"] = _("Only personal replies have an owner.")
            # A group reply belongs to the group's shop, so shop scoping follows the group.
            group = self.group if self.group_id else None
            if group is not None and group.shop_id != self.shop_id:
                self.shop_id = group.shop_id
        elif self.scope == self.Scope.SHARED:
            if self.owner_id:
                errors["owner"] = _("Only personal replies have an owner.")
            if self.group_id:
                errors["group"] = _("A shared reply has no skill group.")
        if errors:
            raise ValidationError(errors)

    shop_scope_path = "shop"


# --- Knowledge base (知识库) ----------------------------------------------------------------


class KnowledgeCategory(models.Model):
    """A heading that groups articles and Q&A pairs (e.g. Returns, Shipping)."""

    name = models.CharField(_("name"), max_length=80)
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="knowledge_categories",
        verbose_name=_("shop"),
        help_text=_("Empty for the platform's knowledge base."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="knowledgecategory_unique"),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(shop__isnull=True),
                name="knowledgecategory_unique_platform",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.shop}" if self.shop_id else self.name

    shop_scope_path = "shop"


class KnowledgeArticle(models.Model):
    """A longer knowledge-base text agents read or quote from."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    category = models.ForeignKey(
        KnowledgeCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("category"),
    )
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="knowledge_articles",
        verbose_name=_("shop"),
        help_text=_("Empty for the platform's knowledge base."),
    )
    is_published = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    shop_scope_path = "shop"


class KnowledgeQA(models.Model):
    """A question customers ask and the answer to give; keywords help matching."""

    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    keywords = models.CharField(
        _("keywords"),
        max_length=300,
        blank=True,
        help_text=_("Words customers use for this question, separated by commas or spaces."),
    )
    category = models.ForeignKey(
        KnowledgeCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="qas",
        verbose_name=_("category"),
    )
    shop = models.ForeignKey(
        "agents.Shop",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="knowledge_qas",
        verbose_name=_("shop"),
        help_text=_("Empty for the platform's knowledge base."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge Q&A")
        verbose_name_plural = _("knowledge Q&As")
        ordering = ["question"]

    def __str__(self) -> str:
        return self.question

    shop_scope_path = "shop"


# --- Business hours and holiday calendars, and per-group settings that use them.


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known time zone (e.g. Asia/Shanghai)."),
            params={"value": value},
        ) from None


class BusinessCalendar(models.Model):
    """A working calendar: weekly hours in a time zone, public holidays, extra days."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    follow_china_holidays = models.BooleanField(
        _("follow China's public holidays"),
        default=True,
        help_text=_(
            "Closed on official holidays and open on the adjusted working days (调休), "
            "as published by the State Council."
        ),
    )
    adjusted_day_hours_from = models.PositiveSmallIntegerField(
        _("adjusted working days use the hours of"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("An adjusted working day on a weekend works the hours of this weekday."),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingInterval(models.Model):
    """One stretch of working time on a weekday (a day may have several, e.g. around lunch)."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="intervals",
        verbose_name=_("calendar"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is None or self.end is None:
            return
        end_is_midnight = self.end.hour == 0 and self.end.minute == 0 and self.end.second == 0
        if not end_is_midnight and self.end <= self.start:
            raise ValidationError(_("The end must be after the start."))


class CalendarException(models.Model):
    """A date an admin declares closed (extra holiday) or open (extra working day)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Closed (holiday)")
        WORKDAY = "workday", _("Open (working day)")

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="exceptions",
        verbose_name=_("calendar"),
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendarexception_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class GroupSettings(models.Model):
    """How a skill group works: its calendar and how long an untouched ticket waits."""

    group = models.OneToOneField(
        SkillGroup,
        on_delete=models.CASCADE,
        related_name="settings",
        verbose_name=_("group"),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="groups",
        verbose_name=_("calendar"),
        help_text=_("Empty: the group works around the clock."),
    )
    reassign_after_minutes = models.PositiveIntegerField(
        _("reassign untouched tickets after (business minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)],
        help_text=_("Empty: never reassign automatically."),
    )

    class Meta:
        verbose_name = _("group settings")
        verbose_name_plural = _("group settings")

    def __str__(self) -> str:
        return str(self.group)


# --- Configuration admins edit in Django admin: chat channels and issue types.


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

    shop_scope_path = "shop"


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
