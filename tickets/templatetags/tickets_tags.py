from datetime import timedelta
from html import escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
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


# The list's rows, joined in Python. As a template loop this was the page's largest cost:
# ~20 variable lookups, two {% url %}, two get_FOO_display() (each builds and translates
# the whole choices list) and a localised date per row, times 50 rows. Values are escaped
# with html.escape, what django.utils.html.escape does without its lazy-string wrapper.
# The markup is the loop's (tickets/tests/test_list_rows.py renders both and compares).
ROW = (
    "<tr>"
    '<td class="num"><a href="{url}">{pk}</a></td>'
    '<td><a href="{url}">{title}</a><div class="muted">{type}{shop}</div></td>'
    "<td>{status}</td>"
    '<td><span class="tag prio-{priority}">{priority_label}</span></td>'
    "<td>{group}</td>"
    "<td>{assignee}</td>"
    "<td>{sla}</td>"
    '<td class="muted">{created}</td>'
    "</tr>"
)


@register.simple_tag
def ticket_rows(rows: list[Any]) -> str:
    """The <tr> of each ticket on a list page (see ROW); rows are selectors.ListRow."""
    from tickets.models import Priority, Ticket

    # One reverse() for the page: every row's link differs only by its id.
    head, _zero, tail = reverse("tickets:detail", args=[0]).rpartition("0")
    statuses = {value: escape(str(label)) for value, label in Ticket.Status.choices}
    priorities = {value: escape(str(label)) for value, label in Priority.choices}
    sla = {
        state: f'<span class="tag sla-{state}">{escape(str(label))}</span>'
        for state, label in SLA_LABELS.items()
    }
    none = '<span class="muted">—</span>'
    tz = timezone.get_current_timezone()
    out = []
    for ticket in rows:
        shop = ticket.shop_name
        assignee = ticket.assignee_name
        out.append(
            ROW.format(
                url=escape(f"{head}{ticket.pk}{tail}"),
                pk=ticket.pk,
                title=escape(ticket.title),
                type=escape(ticket.type_name),
                shop=" · " + escape(shop) if shop is not None else "",
                status=statuses.get(ticket.status) or escape(ticket.status),
                priority=escape(ticket.priority),
                priority_label=priorities.get(ticket.priority) or escape(ticket.priority),
                group=escape(ticket.group_name),
                assignee=escape(assignee) if assignee is not None else "—",
                sla=sla.get(ticket.sla_state, none),
                created=ticket.created_at.astimezone(tz).strftime("%m-%d %H:%M"),
            )
        )
    return mark_safe("".join(out))  # noqa: S308  # every value above went through escape()
