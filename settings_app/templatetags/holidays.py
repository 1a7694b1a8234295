"""`{% holidays_banner %}`: the warning that a year near today has no public holiday list,
shown in Django admin (templates/admin/base_site.html) and on the Settings page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import pgettext

from settings_app.selectors import holiday_years_missing

register = template.Library()


@register.inclusion_tag("settings_app/_holidays_banner.html", takes_context=True)
def holidays_banner(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    # Not on the login page: the gap is an admin's chore, not something to show strangers.
    if user is None or not user.is_authenticated:
        return {"years": ""}
    missing = holiday_years_missing()
    separator = pgettext("list separator", ", ")
    return {"years": separator.join(str(year) for year in missing)}
