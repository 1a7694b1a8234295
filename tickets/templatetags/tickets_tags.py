from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

register = template.Library()


@register.filter
def duration_short(value: timedelta | None) -> str:
    """3d 4h, 2h 5m, 12m, <1m: how long a ticket sat, at a glance."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return _("<1m")
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)sm") % {"h": hours, "m": mins}
    return _("%(m)sm") % {"m": mins}


SLA_LABELS = {
    "ok": _lazy("On track"),
    "due_soon": _lazy("Due soon"),
    "breached": _lazy("Breached"),
    "paused": _lazy("Paused"),
}


@register.simple_tag
def sla_badge(ticket: Any) -> str:
    """The ticket's SLA state as a tag (a tag, not an include: it renders once per row)."""
    state = ticket.sla_state
    label = SLA_LABELS.get(state)
    if label is None:
        return mark_safe('<span class="muted">—</span>')
    return format_html('<span class="tag sla-{}">{}</span>', state, label)
