from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from agents.models import AgentProfile, GroupMembership, Shop, SkillGroup, User
from agents.roles import Role


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    can_delete = False
    fields = ["max_concurrent", "state", "state_changed_at"]
    readonly_fields = ["state_changed_at"]


class MembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    autocomplete_fields = ["group"]


class UserChangeForm(BaseUserChangeForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        groups = cleaned.get("groups")
        if groups is not None:
            roles = [g.name for g in groups if g.name in Role.values]
            if len(roles) > 1:
                raise forms.ValidationError(_("A user has exactly one role; pick one role group."))
            if roles == [Role.MERCHANT_AGENT] and not cleaned.get("shops"):
                raise forms.ValidationError(_("A merchant agent must belong to at least one shop."))
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    list_display = ["username", "display_name", "email", "roles", "is_active", "last_login"]
    list_filter = ["is_active", "is_staff", "groups", "shops"]
    search_fields = ["username", "display_name", "email", "first_name", "last_name"]
    filter_horizontal = ["groups", "user_permissions", "shops"]
    inlines = [AgentProfileInline, MembershipInline]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Kefu"), {"fields": ("display_name", "language", "shops")}),
    )

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


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "state", "max_concurrent", "state_changed_at"]
    list_filter = ["state"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]
    readonly_fields = ["state_changed_at"]
