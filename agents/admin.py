from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from agents.access import membership_refusal_for
from agents.models import AgentProfile, GroupMembership, Shop, SkillGroup, User
from agents.roles import PLATFORM_ROLES, Role
from agents.selectors import role_of
from agents.services import agent_set_state, user_set_active, user_set_role, user_set_shops


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    can_delete = False
    fields = ["max_concurrent", "state", "state_changed_at"]
    # The state changes only through agents.services.agent_set_state (the seat's own
    # switch, or the seat list's actions): it rings the board and drains the queues.
    readonly_fields = ["state", "state_changed_at"]


class MembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    autocomplete_fields = ["group"]


class UserChangeForm(BaseUserChangeForm):
    """The role is one choice, saved by agents.services.user_set_role (never by editing the
    role groups directly, which would skip what the service keeps in step)."""

    role = forms.ChoiceField(
        label=_("role"),
        choices=[("", _("No role (no access)")), *Role.choices],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["role"] = role_of(self.instance) or ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        role = cleaned.get("role") or None
        shops = cleaned.get("shops")
        if role == Role.MERCHANT_AGENT and not shops:
            raise forms.ValidationError(_("A merchant agent must belong to at least one shop."))
        if self.instance.pk and role is not None:
            # The groups the user is already in must stay within what they will see.
            shop_ids = frozenset(s.pk for s in shops or ())
            refusals = [
                membership_refusal_for(
                    user=self.instance,
                    all_shops=role in PLATFORM_ROLES,
                    shop_ids=shop_ids,
                    group=m.group,
                )
                for m in self.instance.group_memberships.select_related("group")
            ]
            if any(refusals):
                raise forms.ValidationError([r for r in refusals if r])
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    list_display = ["username", "display_name", "email", "roles", "is_active", "last_login"]
    list_filter = ["is_active", "is_staff", "groups", "shops"]
    search_fields = ["username", "display_name", "email", "first_name", "last_name"]
    filter_horizontal = ["user_permissions", "shops"]
    inlines = [AgentProfileInline, MembershipInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Kefu"), {"fields": ("role", "display_name", "language", "shops")}),
        (_("Permissions"), {"fields": ("is_active", "is_superuser", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Activation goes through its service (it closes a deactivated user's sockets).
        is_active = obj.is_active
        if change and "is_active" in form.changed_data:
            obj.is_active = not is_active
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            user_set_active(user=obj, is_active=is_active)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Shops go through their service too (open sockets re-check their scope).
        shops = form.cleaned_data.pop("shops", None) if change else None
        super().save_related(request, form, formsets, change)
        if shops is not None and "shops" in form.changed_data:
            user_set_shops(user=form.instance, shops=shops)
        if "role" in form.cleaned_data and (not change or "role" in form.changed_data):
            user_set_role(user=form.instance, role=form.cleaned_data["role"] or None)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("role"))
    def roles(self, obj: User) -> str:
        return ", ".join(str(Role(g.name).label) for g in obj.groups.all() if g.name in Role.values)


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(SkillGroup)
class SkillGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "member_count", "is_active"]
    list_filter = ["is_active", "shop"]
    search_fields = ["name"]
    inlines = [GroupMembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SkillGroup]:
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj: SkillGroup) -> int:
        return obj._members  # type: ignore[attr-defined]


def _set_state_action(state: AgentProfile.State) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[AgentProfile]) -> None:
        for profile in queryset.select_related("user"):
            agent_set_state(user=profile.user, state=state)
        modeladmin.message_user(
            request,
            _("%(count)d seats set to %(state)s.") % {"count": len(queryset), "state": state.label},
            messages.SUCCESS,
        )

    action.__name__ = f"set_{state.value}"
    return admin.action(description=_("Set selected seats: %(state)s") % {"state": state.label})(
        action
    )


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    """Seats. The state is read-only here: the actions change it through the seat service,
    which stamps the time in state, rings the seat board and drains the queues."""

    list_display = ["user", "state", "max_concurrent", "state_changed_at"]
    list_filter = ["state"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]
    readonly_fields = ["state", "state_changed_at"]
    actions = [_set_state_action(s) for s in AgentProfile.State]
