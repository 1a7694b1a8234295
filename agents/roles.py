"""Roles are Django groups; this module says which permissions each role carries.

`sync_role_groups` creates the groups and sets their permissions. It runs from the data
migration that introduced roles and after every `migrate` (agents.apps), so a model added
by a later issue is configurable by admins without another hand-written migration.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Platform agent")
    MERCHANT_AGENT = "merchant_agent", _("Merchant agent")
    BUSINESS_STAFF = "business_staff", _("Business staff")


# Roles that serve the whole platform, and so see every shop's data.
PLATFORM_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.BUSINESS_STAFF})

# Roles that hold a seat (坐席) and take conversations; business staff only handle tickets.
SEAT_ROLES = frozenset({Role.SUPERVISOR, Role.AGENT, Role.MERCHANT_AGENT})
ALL_CAPABILITIES = frozenset(
    {
        "use_workbench",
        "view_service_orders",
        "view_tickets",
        "view_monitoring",
        "view_agents",
        "view_reports",
        "use_info_query",
    }
)
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL_CAPABILITIES,
    Role.SUPERVISOR: ALL_CAPABILITIES,
    Role.AGENT: frozenset(
        {"use_workbench", "view_service_orders", "view_tickets", "use_info_query"}
    ),
    Role.MERCHANT_AGENT: frozenset(
        {"use_workbench", "view_service_orders", "view_tickets", "use_info_query"}
    ),
    Role.BUSINESS_STAFF: frozenset({"view_tickets", "use_info_query"}),
}

# Admins configure everything in Django admin: every model permission of Kefu's own apps
# (the project apps in INSTALLED_APPS) and of the third-party apps they manage.
THIRD_PARTY_ADMIN_APPS = ("authtoken", "axes")


def admin_model_apps() -> tuple[str, ...]:
    from django.conf import settings

    own = tuple(
        app
        for app in settings.INSTALLED_APPS
        if "." not in app and (settings.BASE_DIR / app).is_dir()
    )
    return own + THIRD_PARTY_ADMIN_APPS


def sync_role_groups(apps: Any = None) -> None:
    """Create the role groups and (re)set their permissions. Idempotent."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    capabilities = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="agents", content_type__model="capability"
        )
    }
    admin_model_perms = list(
        Permission.objects.filter(content_type__app_label__in=admin_model_apps()).exclude(
            content_type__model="capability"
        )
    )
    for role, codenames in ROLE_CAPABILITIES.items():
        group, _created = Group.objects.get_or_create(name=role)
        perms = [capabilities[c] for c in sorted(codenames) if c in capabilities]
        if role == Role.ADMIN:
            perms += admin_model_perms
        group.permissions.set(perms)
