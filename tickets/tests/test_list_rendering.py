"""The list page's cheap rendering: rows joined in Python, filter choices cached per scope.

Both are only faster: the rows are the markup the template loop made, and the cached
choices are the ones each scope's querysets give."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from agents.models import User
from agents.tests.factories import SkillGroupFactory, UserFactory
from tickets.filters import TicketFilter, choices_cache_key
from tickets.models import Ticket
from tickets.selectors import list_rows_page, ticket_list_for
from tickets.templatetags.tickets_tags import ticket_rows

pytestmark = pytest.mark.django_db

# The row loop list.html had before ticket_rows replaced it, verbatim.
LOOP = Template(
    "{% load tickets_tags %}{% for ticket in rows %}"
    "<tr>"
    '<td class="num"><a href="{% url \'tickets:detail\' ticket.pk %}">{{ ticket.pk }}</a></td>'
    "<td><a href=\"{% url 'tickets:detail' ticket.pk %}\">{{ ticket.title }}</a>"
    '<div class="muted">{{ ticket.ticket_type }}{% if ticket.shop %} · {{ ticket.shop }}'
    "{% endif %}</div></td>"
    "<td>{{ ticket.get_status_display }}</td>"
    '<td><span class="tag prio-{{ ticket.priority }}">{{ ticket.get_priority_display }}</span></td>'
    "<td>{{ ticket.group.name }}</td>"
    '<td>{{ ticket.assignee|default:"—" }}</td>'
    "<td>{% sla_badge ticket %}</td>"
    '<td class="muted">{{ ticket.created_at|date:"m-d H:i" }}</td>'
    "</tr>{% endfor %}"
)


@pytest.fixture
def varied_tickets(ticket_type, group, shop_a):
    now = timezone.now()
    hostile = UserFactory.create(display_name='<b>"Li"</b> & co')
    full_name = UserFactory.create(display_name="")
    User.objects.filter(pk=full_name.pk).update(first_name="Wang", last_name="Wei")
    bare = UserFactory.create(display_name="", username="zhao")
    rows = [
        {"title": "plain", "status": "new"},
        {"title": '<script>alert("x")</script> & more', "shop": shop_a, "assignee": hostile},
        {"title": "breached", "status": "in_progress", "sla_due": now - timedelta(hours=1)},
        {"title": "due soon", "sla_due": now + timedelta(hours=1), "sla_warn_at": now},
        {
            "title": "ok",
            "sla_due": now + timedelta(hours=2),
            "sla_warn_at": now + timedelta(hours=1),
        },
        {"title": "paused", "status": "on_hold", "paused_at": now, "priority": "urgent"},
        {"title": "closed", "status": "closed", "priority": "low", "assignee": full_name},
        {"title": "bare", "assignee": bare},
    ]
    for row in rows:
        Ticket.objects.create(ticket_type=ticket_type, group=group, **row)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_rows_are_the_markup_of_the_template_loop(people, varied_tickets, language):
    """The loop over model instances and ticket_rows over the page's ListRows agree."""
    qs = ticket_list_for(user=people["admin"], tab="all")
    page = list_rows_page(qs, after=None, before=None)
    with translation.override(language):
        expected = LOOP.render(Context({"rows": list(qs)}))
        with CaptureQueriesContext(connection) as ctx:
            ours = ticket_rows(page.rows)
    assert ours == expected
    assert "&lt;script&gt;" in ours and "&lt;b&gt;&quot;Li&quot;&lt;/b&gt; &amp; co" in ours
    assert "<td>Wang Wei</td>" in ours and "<td>zhao</td>" in ours and "<td>—</td>" in ours
    assert ctx.captured_queries == []  # everything shown came with the page's one query


def test_list_page_shows_the_rows(client_for, varied_tickets):
    html = client_for("admin").get(reverse("tickets:list") + "?tab=all").content.decode()
    assert html.count('<tr><td class="num">') == Ticket.objects.count()
    assert '<span class="tag sla-breached">' in html


def _choices(user, name: str) -> list[str]:
    filterset = TicketFilter({}, queryset=Ticket.objects.all(), user=user)
    filterset.use_cached_choices()
    form = filterset.form
    return [str(label) for _value, label in form.fields[name].widget.choices]


def test_filter_choices_are_cached_per_shop_scope(people, group, shop_a, shop_b):
    SkillGroupFactory.create(shop=shop_a, name="A desk")
    SkillGroupFactory.create(shop=shop_b, name="B desk")
    # The supervisor (all shops) fills the cache first; neither merchant gets that entry,
    # and each merchant's entry holds only their own shop.
    assert {"A desk · Shop A", "B desk · Shop B"} <= set(_choices(people["supervisor"], "group"))
    a_groups, b_groups = (
        _choices(people["merchant_a"], "group"),
        _choices(people["merchant_b"], "group"),
    )
    assert "A desk · Shop A" in a_groups and "B desk · Shop B" not in a_groups
    assert "B desk · Shop B" in b_groups and "A desk · Shop A" not in b_groups
    assert _choices(people["merchant_a"], "shop") == ["---------", "Shop A"]
    assert _choices(people["merchant_b"], "shop") == ["---------", "Shop B"]
    assert len({choices_cache_key(people[w]) for w in ("admin", "merchant_a", "merchant_b")}) == 3
    assert choices_cache_key(people["admin"]) == choices_cache_key(people["supervisor"])


def test_filter_choices_come_from_the_cache_then_refresh(people, group, shop_a, monkeypatch):
    user = people["merchant_a"]
    _choices(user, "group")
    with CaptureQueriesContext(connection) as ctx:
        _choices(user, "group")
    assert ctx.captured_queries == []  # groups, assignees, shops, types: all cached
    SkillGroupFactory.create(shop=shop_a, name="New desk")
    # Within FILTER_CHOICES_SECONDS the bar may not offer it yet (documented)...
    assert "New desk · Shop A" not in _choices(user, "group")
    # ...and once the entry expires, it does.
    cache.delete(choices_cache_key(user))
    assert "New desk · Shop A" in _choices(user, "group")


def test_a_value_outside_the_scope_is_refused_even_from_cached_choices(people, shop_b):
    other = SkillGroupFactory.create(shop=shop_b, name="B desk")
    _choices(people["supervisor"], "group")  # cached for the all-shops scope
    filterset = TicketFilter(
        {"group": str(other.pk)}, queryset=Ticket.objects.all(), user=people["merchant_a"]
    )
    assert not filterset.is_valid()
    assert "group" in filterset.form.errors


def test_selected_value_renders_from_cached_choices(people, group):
    user = people["admin"]
    _choices(user, "group")
    filterset = TicketFilter({"group": str(group.pk)}, queryset=Ticket.objects.all(), user=user)
    filterset.use_cached_choices()
    form = filterset.form
    assert re.search(
        rf'<option value="{group.pk}" selected>Logistics desk</option>', str(form["group"])
    )
