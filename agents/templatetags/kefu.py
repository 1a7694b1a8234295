from typing import Any

from django import template

from agents.models import AgentProfile
from agents.selectors import seat_for

register = template.Library()


@register.simple_tag
def seat_of(user: Any) -> AgentProfile:
    return seat_for(user=user)


@register.filter
def duration(seconds: int | None) -> str:
    """Compact h:mm:ss / m:ss for timers an agent glances at."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def role_label(user: Any) -> str:
    """The user's role in the reader's language (uses prefetched groups when present)."""
    from agents.roles import Role
    from agents.selectors import role_of

    role = role_of(user)
    return str(Role(role).label) if role else "–"


@register.filter(name="may")
def may_filter(user: Any, capability: str) -> bool:
    """`{% if user|may:"view_tickets" %}`: the templates' door to agents.capabilities.may."""
    from agents.capabilities import may

    return may(user, capability)
