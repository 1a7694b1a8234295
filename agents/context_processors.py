from typing import Any

from django.http import HttpRequest

from agents.access import user_role
from agents.roles import Role
from agents.sections import sections_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = user_role(user)
    return {
        "nav_sections": sections_for(user),
        "nav_active": getattr(request, "kefu_section", ""),
        "user_role": role,
        "user_role_label": Role(role).label if role else "",
    }
