from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Shop(models.Model):
    """A merchant on the marketplace: the tenant unit. Merchant agents see only their shops."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def shop_scope_q(cls, shop_ids: frozenset[int]) -> models.Q:
        return models.Q(pk__in=shop_ids)


class User(AbstractUser):
    """Everyone who signs in to the back office. The role is the user's one Django group."""

    display_name = models.CharField(
        _("display name"),
        max_length=60,
        blank=True,
        help_text=_("Shown to customers and colleagues instead of the username."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty means: follow the browser."),
    )
    shops = models.ManyToManyField(
        Shop,
        blank=True,
        related_name="members",
        verbose_name=_("shops"),
        help_text=_("For merchant agents: the only shops whose data they may see."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def name(self) -> str:
        return str(self)

    @classmethod
    def shop_scope_q(cls, shop_ids: frozenset[int]) -> models.Q:
        # Colleagues of the same shop(s); Exists avoids duplicate rows for multi-shop users.
        through = cls.shops.through
        return models.Q(
            models.Exists(
                through.objects.filter(user_id=models.OuterRef("pk"), shop_id__in=shop_ids)
            )
        )


class AgentProfile(models.Model):
    """A user's seat: how many conversations they may hold at once and their duty state."""

    class State(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="agent_profile", verbose_name=_("user")
    )
    max_concurrent = models.PositiveSmallIntegerField(
        _("max concurrent conversations"),
        default=5,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OFFLINE
    )
    state_changed_at = models.DateTimeField(_("state since"), default=timezone.now)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["online", "away", "offline"]),
                name="agentprofile_state_valid",
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class SkillGroup(models.Model):
    """A team that work is addressed to (技能组). A merchant's groups belong to its shop."""

    name = models.CharField(_("name"), max_length=80)
    shop = models.ForeignKey(
        Shop,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="skill_groups",
        verbose_name=_("shop"),
        help_text=_("Empty for platform groups serving every shop."),
    )
    description = models.TextField(_("description"), blank=True)
    members: models.ManyToManyField[User, GroupMembership] = models.ManyToManyField(
        User,
        through="GroupMembership",
        related_name="skill_groups",
        verbose_name=_("members"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("skill group")
        verbose_name_plural = _("skill groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "name"], name="skillgroup_unique_name_per_shop"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(shop__isnull=True),
                name="skillgroup_unique_platform_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.shop}" if self.shop_id else self.name

    shop_scope_path = "shop"


class GroupMembership(models.Model):
    """A user in a skill group; a lead receives the group's escalations."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        LEAD = "lead", _("Lead")

    group = models.ForeignKey(
        SkillGroup, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("group")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="group_memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="groupmembership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.group}"

    def clean(self) -> None:
        # Work addressed to the group would reach someone who cannot open it (a 404 behind
        # every assignment): a member must see the group's shop.
        if self.group_id is None or self.user_id is None:
            return
        from agents.access import membership_refusal

        reason = membership_refusal(self.user, self.group)
        if reason:
            raise ValidationError(reason)


class Capability(models.Model):
    """No table: a home for the capabilities that roles grant (see agents.roles), so that
    admins see them on each role group."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("capability")
        verbose_name_plural = _("capabilities")
        permissions = [
            ("use_workbench", _("Can use the agent workbench")),
            ("view_service_orders", _("Can see service orders")),
            ("view_tickets", _("Can see tickets")),
            ("view_monitoring", _("Can watch seats and queues")),
            ("view_agents", _("Can see agents and their KPIs")),
            ("view_reports", _("Can see reports")),
            ("use_info_query", _("Can use the info query")),
            ("supervise", _("Can supervise: take over, close or transfer any conversation")),
            ("hold_seat", _("Holds a seat and takes conversations")),
            ("browse_tickets", _("Can browse every ticket in scope")),
            ("duty_off_seat", _("Receives tickets without holding a seat")),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
