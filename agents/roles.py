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

# Sections a role may enter (each one a page of the navigation, see agents.sections).
SECTION_CAPABILITIES = frozenset(
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
# What a role may do, beyond entering pages. Asked through agents.capabilities.may().
#   supervise       override anywhere in scope: close or transfer anyone's conversation,
#                   see every group's queue, act on any ticket as a group lead would
#   hold_seat       has a seat (坐席): takes conversations, is a transfer target
#   browse_tickets  sees every ticket in scope, not only those of their own groups
#   duty_off_seat   receives tickets as a group member without being on a seat
ACTION_CAPABILITIES = frozenset({"supervise", "hold_seat", "browse_tickets", "duty_off_seat"})
ALL_CAPABILITIES = SECTION_CAPABILITIES | ACTION_CAPABILITIES

_AGENT = frozenset(
    {
        "use_workbench",
        "view_service_orders",
        "view_tickets",
        "use_info_query",
        "hold_seat",
        "browse_tickets",
    }
)
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL_CAPABILITIES - {"hold_seat", "duty_off_seat"},
    Role.SUPERVISOR: ALL_CAPABILITIES - {"duty_off_seat"},
    Role.AGENT: _AGENT,
    Role.MERCHANT_AGENT: _AGENT,
    Role.BUSINESS_STAFF: frozenset({"view_tickets", "use_info_query", "duty_off_seat"}),
}


def roles_with(capability: str) -> frozenset[str]:
    """The role names (group names) that carry a capability."""
    if capability not in ALL_CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    return frozenset(str(r) for r, caps in ROLE_CAPABILITIES.items() if capability in caps)


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
