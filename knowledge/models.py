"""Canned replies (常用语) and the knowledge base (知识库)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    RegexValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
