"""The back office's sections: one table drives the navigation and guards the views.

A section is shown in the navigation exactly when its view would let the user in, because
both ask agents.capabilities.may for the same capability.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agents.capabilities import may


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    url_name: str
    capability: str | None  # None: staff (Django admin) only


SECTIONS: tuple[Section, ...] = (
    Section("workbench", _("Workbench"), "workbench:index", "use_workbench"),
    Section("service_orders", _("Service orders"), "service_orders:list", "view_service_orders"),
    Section("tickets", _("Tickets"), "tickets:list", "view_tickets"),
    Section("monitoring", _("Monitoring"), "monitoring:index", "view_monitoring"),
    Section("agents", _("Agents"), "agents:list", "view_agents"),
    Section("reports", _("Reports"), "reports:index", "view_reports"),
    Section("info_query", _("Info query"), "info_query:search", "use_info_query"),
    Section("settings", _("Settings"), "settings_app:index", None),
)
SECTIONS_BY_KEY = {s.key: s for s in SECTIONS}


def user_may_enter(user: Any, section: Section) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if section.capability is None:
        return bool(user.is_staff)
    return may(user, section.capability)


def sections_for(user: Any) -> list[Section]:
    return [s for s in SECTIONS if user_may_enter(user, s)]


def section_view(key: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Guard a view with its section's permission and mark the section active."""
    section = SECTIONS_BY_KEY[key]

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("login"))
            if not user_may_enter(request.user, section):
                raise PermissionDenied
            request.kefu_section = section.key  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
