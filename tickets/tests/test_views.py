"""Ticket pages: permission matrix, merchant isolation, keyset paging, stale edits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django import forms
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agents.access import scope_for
from agents.models import GroupMembership
from agents.tests.factories import SkillGroupFactory
from commerce.tests.factories import OrderFactory
from tests.permissions import assert_matrix
from tickets.filters import TicketFilter
from tickets.models import Ticket, TicketNode
from tickets.selectors import PAGE_SIZE, group_counts_for
from tickets.services.content import ticket_attach
from tickets.services.lifecycle import ticket_create
from tickets.tests.conftest import member
from tickets.tests.factories import TicketTypeFactory

pytestmark = pytest.mark.django_db
GOOD = {"order_no": "BT20261101001"}


@pytest.fixture
def shop_ticket(ticket_type, shop_a):
    order = OrderFactory.create(shop=shop_a, order_no="BT20261101001")
    return ticket_create(
        ticket_type=ticket_type, title="Shop A parcel", submitter=None, answers=GOOD, order=order
    )


@pytest.fixture
def platform_ticket(ticket_type):
    return ticket_create(
        ticket_type=ticket_type, title="Platform parcel", submitter=None, answers=GOOD
    )


SEE_SHOP_A = {
    "anonymous": 302,
    "admin": 200,
    "supervisor": 200,
    "agent": 200,
    "merchant_a": 200,
    "merchant_b": 404,
    "business": 404,  # not a member of the ticket's group
}


def test_list_matrix(client_for, people):
    everyone = {"anonymous": 302, **dict.fromkeys(people, 200)}
    assert_matrix(client_for, reverse("tickets:list"), everyone)
    assert_matrix(client_for, reverse("tickets:pick_type"), everyone)


def test_create_page_matrix(client_for, people, ticket_type):
    assert_matrix(
        client_for,
        reverse("tickets:create", args=[ticket_type.pk]),
        {"anonymous": 302, **dict.fromkeys(people, 200)},
    )


def test_detail_matrix_shop_ticket(client_for, shop_ticket):
    assert_matrix(client_for, reverse("tickets:detail", args=[shop_ticket.pk]), SEE_SHOP_A)


def test_detail_matrix_platform_ticket(client_for, platform_ticket):
    assert_matrix(
        client_for,
        reverse("tickets:detail", args=[platform_ticket.pk]),
        {**SEE_SHOP_A, "merchant_a": 404},
    )


def test_business_staff_see_their_groups_tickets(client_for, people, shop_ticket, group):
    GroupMembership.objects.create(group=group, user=people["business"])
    assert (
        client_for("business").get(reverse("tickets:detail", args=[shop_ticket.pk])).status_code
        == 200
    )
    page = client_for("business").get(reverse("tickets:list") + "?tab=groups")
    assert b"Shop A parcel" in page.content


def test_attachment_matrix_and_content(client_for, people, shop_ticket, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    file = ticket_attach(
        ticket=shop_ticket,
        actor=people["admin"],
        upload=SimpleUploadedFile("label.pdf", b"%PDF-1.4 x"),
    )
    url = reverse("tickets:attachment", args=[shop_ticket.pk, file.pk])
    assert_matrix(client_for, url, SEE_SHOP_A)
    response = client_for("merchant_a").get(url)
    assert b"".join(response.streaming_content) == b"%PDF-1.4 x"
    assert "attachment" in response["Content-Disposition"]
    # Another ticket's id in the path does not open this file.
    other = ticket_create(
        ticket_type=shop_ticket.ticket_type, title="o", submitter=None, answers=GOOD
    )
    assert (
        client_for("admin").get(reverse("tickets:attachment", args=[other.pk, file.pk])).status_code
        == 404
    )


def test_attachment_type_and_size_are_checked(client_for, shop_ticket, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    url = reverse("tickets:act", args=[shop_ticket.pk, "attach"])
    response = client_for("admin").post(url, {"file": SimpleUploadedFile("run.exe", b"MZ")})
    assert response.status_code == 400
    assert "cannot be attached" in response.content.decode()
    assert not shop_ticket.attachments.exists()


def test_actions_matrix(client_for, shop_ticket):
    url = reverse("tickets:act", args=[shop_ticket.pk, "comment"])
    assert_matrix(
        client_for,
        url,
        {**SEE_SHOP_A, "admin": 302, "supervisor": 302, "agent": 302, "merchant_a": 302},
        method="post",
        data={"text": "note"},
    )
    assert shop_ticket.nodes.filter(action="comment").count() == 4


def test_other_shop_merchant_cannot_act_or_list(client_for, shop_ticket):
    merchant_b = client_for("merchant_b")
    for action in ("accept", "forward", "resolve", "attach", "watch"):
        url = reverse("tickets:act", args=[shop_ticket.pk, action])
        assert merchant_b.post(url, {"version": 1, "text": "x"}).status_code == 404
    page = merchant_b.get(reverse("tickets:list") + "?tab=all")
    assert b"Shop A parcel" not in page.content
    assert (
        client_for("merchant_a")
        .get(reverse("tickets:list") + "?tab=all")
        .content.count(b"Shop A parcel")
        == 1
    )


def test_stale_edit_shows_the_message_and_keeps_the_text(client_for, people, shop_ticket, group):
    GroupMembership.objects.create(group=group, user=people["agent"])
    url = reverse("tickets:act", args=[shop_ticket.pk, "resolve"])
    stale_version = shop_ticket.version
    client = client_for("agent")
    assert (
        client.post(
            reverse("tickets:act", args=[shop_ticket.pk, "accept"]), {"version": stale_version}
        ).status_code
        == 302
    )
    response = client.post(url, {"version": stale_version, "text": "My long resolution note"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else changed this ticket" in body
    assert "My long resolution note" in body
    assert Ticket.objects.get(pk=shop_ticket.pk).status == "in_progress"


def test_action_flow_through_the_pages(client_for, people, shop_ticket, group):
    GroupMembership.objects.create(group=group, user=people["agent"])
    refunds = SkillGroupFactory.create(name="Refunds desk")
    client = client_for("agent")

    def act(action, **data):
        t = Ticket.objects.get(pk=shop_ticket.pk)
        return client.post(
            reverse("tickets:act", args=[t.pk, action]), {"version": t.version, **data}
        )

    assert act("accept").status_code == 302
    assert act("hold", reason="customer").status_code == 302
    assert act("resume").status_code == 302
    assert act("forward", group=refunds.pk, text="Please refund").status_code == 302
    t = Ticket.objects.get(pk=shop_ticket.pk)
    assert t.group == refunds and t.status in {"new", "assigned"}
    page = client.get(reverse("tickets:detail", args=[t.pk])).content.decode()
    assert "Please refund" in page and "Forwarded" in page


def test_create_page_builds_the_form_from_the_type(client_for, people, ticket_type, group, shop_a):
    OrderFactory.create(shop=shop_a, order_no="BT20261101001")
    client = client_for("agent")
    url = reverse("tickets:create", args=[ticket_type.pk])
    page = client.get(url).content.decode()
    for label in ("Order", "Amount", "Carrier", "Since", "Boxes"):
        assert label in page
    bad = client.post(
        url, {"title": "Lost", "priority": "normal", "group": group.pk, "f_carrier": "DHL"}
    )
    assert bad.status_code == 200
    assert Ticket.objects.count() == 0
    good = client.post(
        url,
        {
            "title": "Lost",
            "priority": "high",
            "group": group.pk,
            "f_order_no": "BT20261101001",
            "f_amount": "12.5",
            "f_carrier": "ZTO",
        },
    )
    ticket = Ticket.objects.get()
    assert good.status_code == 302 and good["Location"] == reverse(
        "tickets:detail", args=[ticket.pk]
    )
    assert ticket.answers == {"order_no": "BT20261101001", "amount": "12.50", "carrier": "ZTO"}
    assert ticket.shop == shop_a and ticket.order is not None
    assert ticket.submitter == people["agent"]


def test_merchant_ticket_to_platform_group_stays_in_their_shop(client_for, people, group, shop_a):
    plain = TicketTypeFactory.create(name="Question", default_group=group)
    url = reverse("tickets:create", args=[plain.pk])
    client = client_for("merchant_a")
    client.post(
        url, {"title": "Help", "priority": "normal", "group": group.pk, "order_no": "XX0000000"}
    )
    assert Ticket.objects.count() == 0  # an order they cannot see is refused, nothing created
    response = client.post(url, {"title": "Help", "priority": "normal", "group": group.pk})
    ticket = Ticket.objects.get()
    assert ticket.shop == shop_a  # so the merchant can see the ticket they filed
    assert client.get(response["Location"]).status_code == 200


def test_filters(client_for, people, ticket_type, group):
    member(group)
    for title, priority in (("Alpha", "high"), ("Beta", "low")):
        ticket_create(
            ticket_type=ticket_type, title=title, submitter=None, answers=GOOD, priority=priority
        )
    client = client_for("supervisor")
    page = client.get(reverse("tickets:list"), {"tab": "all", "priority": "high"}).content.decode()
    assert "Alpha" in page and "Beta" not in page
    page = client.get(reverse("tickets:list"), {"tab": "all", "q": "bet"}).content.decode()
    assert "Beta" in page and "Alpha" not in page
    # Saving the filter as a view: tickets/tests/test_saved_views.py.


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_keyset_pages_cost_the_same_at_any_depth(client_for, ticket_type, group):
    tickets = [
        Ticket(ticket_type=ticket_type, title=f"T{i}", group=group, status="new")
        for i in range(PAGE_SIZE * 3 + 5)
    ]
    Ticket.objects.bulk_create(tickets)
    client = client_for("supervisor")
    base = reverse("tickets:list") + "?tab=all"
    _queries(client, base)
    first = _queries(client, base)
    ids = sorted(Ticket.objects.values_list("pk", flat=True))
    deep = _queries(client, f"{base}&after={ids[PAGE_SIZE + 3]}")
    filtered = _queries(client, f"{base}&after={ids[-10]}&priority=normal&sla=ok")
    assert first == deep == filtered, (first, deep, filtered)
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"{base}&after={ids[PAGE_SIZE + 3]}")
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "OFFSET" not in sql.upper()


def test_keyset_walks_every_row_once(client_for, ticket_type, group):
    Ticket.objects.bulk_create(
        [
            Ticket(ticket_type=ticket_type, title=f"row-{i}-x", group=group)
            for i in range(PAGE_SIZE * 2 + 7)
        ]
    )
    client = client_for("supervisor")
    url = reverse("tickets:list") + "?tab=all"
    seen = []
    pages = 0
    while url:
        response = client.get(url)
        pages += 1
        seen += [t.pk for t in response.context["page"].rows]
        older = response.context["older_url"]
        url = reverse("tickets:list") + older if older else ""
    assert pages == 3
    assert len(seen) == len(set(seen)) == PAGE_SIZE * 2 + 7
    assert seen == sorted(seen, reverse=True)


def test_detail_queries_do_not_grow_with_nodes(client_for, shop_ticket):
    client = client_for("supervisor")
    url = reverse("tickets:detail", args=[shop_ticket.pk])
    _queries(client, url)
    few = _queries(client, url)
    TicketNode.objects.bulk_create(
        [
            TicketNode(ticket=shop_ticket, action="comment", status="new", comment=str(i))
            for i in range(20)
        ]
    )
    assert _queries(client, url) == few


def test_business_staff_have_no_all_tab(client_for, platform_ticket):
    response = client_for("business").get(reverse("tickets:list") + "?tab=all")
    assert response.context["tab"] == "mine"
    assert [key for key, _label in response.context["tabs"]] == ["mine", "groups"]
    assert b"Platform parcel" not in response.content


def test_chinese_interface(client_for, people, shop_ticket):
    people["agent"].language = "zh-hans"
    people["agent"].save()
    page = (
        client_for("agent").get(reverse("tickets:detail", args=[shop_ticket.pk])).content.decode()
    )
    assert ("首次响应" in page and "等待工作时间" not in page) or "新建" in page
    assert "First response" not in page


def test_member_options_for_the_create_form(client_for, people, group, shop_b):
    person = member(group)
    url = reverse("tickets:member_options") + f"?group={group.pk}"
    assert_matrix(client_for, url, {"anonymous": 302, **dict.fromkeys(people, 200)})
    assert f'value="{person.pk}"' in client_for("agent").get(url).content.decode()
    other_shop_group = SkillGroupFactory.create(shop=shop_b)
    hidden = reverse("tickets:member_options") + f"?group={other_shop_group.pk}"
    assert client_for("merchant_a").get(hidden).status_code == 404
    assert client_for("merchant_b").get(hidden).status_code == 200


def test_merchants_are_not_shown_platform_staff_in_the_person_picker(client_for, people, group):
    platform_person = member(group)
    url = reverse("tickets:member_options") + f"?group={group.pk}"
    assert f'value="{platform_person.pk}"' not in client_for("merchant_a").get(url).content.decode()
    assert f'value="{platform_person.pk}"' in client_for("agent").get(url).content.decode()


def test_create_links_a_customer_the_user_may_see(client_for, people, group, shop_a, shop_b):
    from commerce.tests.factories import CustomerFactory

    plain = TicketTypeFactory.create(name="Question", default_group=group)
    url = reverse("tickets:create", args=[plain.pk])
    mine = CustomerFactory.create(external_id="C-A")
    OrderFactory.create(shop=shop_a, customer=mine)
    theirs = CustomerFactory.create(external_id="C-B", phone="13900000009")
    OrderFactory.create(shop=shop_b, customer=theirs)
    client = client_for("merchant_a")
    refused = client.post(
        url, {"title": "Q", "priority": "normal", "group": group.pk, "customer": "13900000009"}
    )
    assert refused.status_code == 200 and Ticket.objects.count() == 0
    client.post(url, {"title": "Q", "priority": "normal", "group": group.pk, "customer": "C-A"})
    assert Ticket.objects.get().customer == mine


def test_edit_from_the_page(client_for, people, shop_ticket, group):
    GroupMembership.objects.create(group=group, user=people["agent"])
    url = reverse("tickets:act", args=[shop_ticket.pk, "update"])
    data = {"version": shop_ticket.version, "title": "Parcel lost twice", "priority": "urgent"}
    assert client_for("merchant_b").post(url, data).status_code == 404
    assert client_for("business").post(url, data).status_code == 404
    assert client_for("agent").post(url, data).status_code == 302
    t = Ticket.objects.get(pk=shop_ticket.pk)
    assert (t.title, t.priority) == ("Parcel lost twice", "urgent")
    stale = client_for("agent").post(url, {**data, "title": "Other"})
    assert stale.status_code == 409


def test_group_counts_open_and_overdue_per_scope(people, ticket_type, group, shop_a, shop_b):
    past = timezone.now() - timedelta(hours=1)
    future = timezone.now() + timedelta(hours=1)
    for shop, status, due in (
        (shop_a, "in_progress", past),
        (shop_a, "new", future),
        (shop_a, "closed", None),
        (shop_b, "assigned", past),
    ):
        Ticket.objects.create(
            ticket_type=ticket_type, title="t", group=group, shop=shop, status=status, sla_due=due
        )

    def counts(who: str) -> dict[str, int]:
        row = next(r for r in group_counts_for(user=people[who]) if r["group_id"] == group.pk)
        return {"open": row["open"], "overdue": row["overdue"], "name": row["group__name"]}

    # The supervisor's (all shops) counts are cached first; a merchant never gets them.
    assert counts("supervisor") == {"open": 3, "overdue": 2, "name": group.name}
    assert counts("merchant_a") == {"open": 2, "overdue": 1, "name": group.name}
    assert counts("merchant_b") == {"open": 1, "overdue": 1, "name": group.name}


def test_group_counts_are_counted_once_per_interval(people, ticket_type, group):
    Ticket.objects.create(ticket_type=ticket_type, title="t", group=group, status="new")
    for who in ("admin", "supervisor"):
        scope_for(people[who])  # the role, read once per request anyway
    with CaptureQueriesContext(connection) as first:
        rows = group_counts_for(user=people["admin"])
    assert len(first.captured_queries) == 2  # the counts, the group names
    Ticket.objects.create(ticket_type=ticket_type, title="t", group=group, status="new")
    with CaptureQueriesContext(connection) as again:
        # Another user with the same scope shares them, within GROUP_COUNTS_SECONDS.
        assert group_counts_for(user=people["supervisor"]) == rows
    assert len(again.captured_queries) == 0
    cache.clear()  # the interval is over
    assert next(r["open"] for r in group_counts_for(user=people["admin"])) == 2


def test_list_queries_do_not_grow_with_groups_or_depth(client_for, ticket_type, group, shop_a):
    Ticket.objects.bulk_create(
        [Ticket(ticket_type=ticket_type, title=f"T{i}", group=group) for i in range(PAGE_SIZE + 5)]
    )
    client = client_for("supervisor")
    base = reverse("tickets:list") + "?tab=all"
    _queries(client, base)
    few = _queries(client, base)
    # More shop groups (their labels in the group filter name the shop) and more tickets
    # in them change nothing.
    for i in range(4):
        other = SkillGroupFactory.create(shop=shop_a, name=f"Shop desk {i}")
        Ticket.objects.create(ticket_type=ticket_type, title="s", group=other, shop=shop_a)
    cache.clear()
    _queries(client, base)  # the counts, recomputed once
    many = _queries(client, base)
    assert few == many, (few, many)
    # A group filter costs its one lookup (the chosen group), at any depth.
    filtered = f"{base}&group={group.pk}&status=new"
    last = Ticket.objects.order_by("pk").values_list("pk", flat=True)[3]
    assert _queries(client, filtered) == _queries(client, f"{filtered}&after={last}") == few + 1


def test_filter_selects_render_as_djangos_select(people, group, shop_a):
    """QuickSelect is only faster: the same markup as Django's Select, selection and
    escaping included."""
    group.name = 'Desk <b>"1"</b>'
    group.save()
    SkillGroupFactory.create(shop=shop_a, name="Shop desk")
    data = QueryDict(f"group={group.pk}&priority=high&status=open")
    ours = TicketFilter(data, queryset=Ticket.objects.all(), user=people["supervisor"]).form
    for name in ("group", "priority", "status", "assignee", "shop", "sla", "ticket_type"):
        field = ours.fields[name]
        stock = forms.Select(choices=field.widget.choices, attrs=field.widget.attrs)
        expected = stock.render(ours.add_prefix(name), ours[name].value(), {"id": f"id_{name}"})
        assert str(ours[name]) == re.sub(r">\s+<", "><", expected.strip()), name
    rendered = str(ours["group"])
    assert "&lt;b&gt;" in rendered and f'value="{group.pk}" selected' in rendered
