"""The API's service order link, watchers and attachments: read on a ticket, the service
order settable on create within the caller's scope, watching through the service."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import User
from agents.tests.factories import UserFactory
from tests.permissions import assert_api_matrix
from tickets.models import Ticket
from tickets.services.content import ticket_attach, ticket_watch
from tickets.tests.api.support import API, GOOD, api_for
from tickets.tests.test_from_chat import chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def everyone(people):
    people["norole"] = User.objects.create_user(username="norole", password="pw-for-tests-1")
    return people


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _create_body(ticket_type, **extra):
    return {"ticket_type": ticket_type.pk, "title": "From the chat", "answers": GOOD, **extra}


def test_create_links_a_service_order_of_the_callers_shop(people, ticket_type, desk, shop_a):
    so = chat(shop_a)
    response = api_for(people["merchant_a"]).post(
        API, _create_body(ticket_type, service_order=so.pk), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["service_order"] == {"id": so.pk, "number": so.number}
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.service_order_id == so.pk
    assert ticket.shop_id == shop_a.pk


def test_create_with_a_service_order_matrix(client_for, everyone, ticket_type, desk, shop_a):
    """Another shop's service order does not exist for a merchant; business staff may not
    read service orders at all: both a 400 on the field, and no ticket."""
    so = chat(shop_a)
    assert_api_matrix(
        client_for,
        API,
        {
            "anonymous": 401,
            "norole": 403,
            "admin": 201,
            "supervisor": 201,
            "agent": 201,
            "merchant_a": 201,
            "merchant_b": 400,
            "business": 400,
        },
        method="post",
        data=_create_body(ticket_type, service_order=so.pk),
    )
    assert set(
        Ticket.objects.filter(service_order=so).values_list("submitter__username", flat=True)
    ) == {"admin_u", "super_u", "agent_u", "merch_a"}


def test_another_shops_service_order_is_refused_by_name(people, ticket_type, desk, shop_b):
    so = chat(shop_b)
    response = api_for(people["merchant_a"]).post(
        API, _create_body(ticket_type, service_order=so.pk), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["service_order"]
    assert not Ticket.objects.filter(service_order=so).exists()


def test_detail_shows_watchers_and_attachments(people, make_ticket, media):
    ticket = make_ticket()
    watcher = UserFactory.create(username="watcher", display_name="Wang Wei")
    ticket_watch(ticket=ticket, user=watcher, watch=True)
    file = ticket_attach(
        ticket=ticket, actor=people["agent"], upload=SimpleUploadedFile("label.pdf", b"%PDF-1.4")
    )
    data = api_for(people["merchant_a"]).get(f"{API}{ticket.pk}/").json()
    assert data["service_order"] is None
    assert data["watchers"] == [
        {"id": watcher.pk, "username": "watcher", "display_name": "Wang Wei"}
    ]
    [attachment] = data["attachments"]
    path = reverse("tickets:attachment", args=[ticket.pk, file.pk])
    assert attachment["name"] == "label.pdf"
    assert attachment["size"] == len(b"%PDF-1.4")
    assert attachment["content_type"] == "application/pdf"
    assert attachment["download_url"] == f"http://testserver{path}"


def test_download_url_is_the_permission_checked_page_view(client_for, people, make_ticket, media):
    ticket = make_ticket()
    ticket_attach(
        ticket=ticket, actor=people["agent"], upload=SimpleUploadedFile("label.pdf", b"%PDF-1.4")
    )
    url = (
        api_for(people["admin"]).get(f"{API}{ticket.pk}/").json()["attachments"][0]["download_url"]
    )
    assert client_for("merchant_a").get(url).status_code == 200
    assert client_for("merchant_b").get(url).status_code == 404  # another shop's file
    # The ticket itself, with its attachments and service order, is not theirs either.
    assert api_for(people["merchant_b"]).get(f"{API}{ticket.pk}/").status_code == 404


@pytest.mark.parametrize("action", ["watch", "unwatch"])
def test_watch_matrix(client_for, everyone, make_ticket, action):
    """Seeing a ticket is enough to watch it, as on the page."""
    assert_api_matrix(
        client_for,
        lambda: f"{API}{make_ticket().pk}/{action}/",
        {
            "anonymous": 401,
            "norole": 403,
            "admin": 200,
            "supervisor": 200,
            "agent": 200,
            "merchant_a": 200,
            "merchant_b": 404,
            "business": 404,
        },
        method="post",
    )


def test_watch_then_unwatch(people, make_ticket):
    ticket = make_ticket()
    client = api_for(people["merchant_a"])
    me = people["merchant_a"].pk
    watched = client.post(f"{API}{ticket.pk}/watch/", format="json").json()
    assert [w["id"] for w in watched["watchers"]] == [me]
    assert client.post(f"{API}{ticket.pk}/watch/", format="json").status_code == 200  # again
    assert list(ticket.watchers.values_list("pk", flat=True)) == [me]
    assert client.post(f"{API}{ticket.pk}/unwatch/", format="json").json()["watchers"] == []


def test_detail_queries_do_not_grow_with_watchers_or_files(people, make_ticket, media):
    ticket = make_ticket()
    client = api_for(people["agent"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{API}{ticket.pk}/").status_code == 200
        return len(ctx.captured_queries)

    ticket_watch(ticket=ticket, user=UserFactory.create(), watch=True)
    ticket_attach(ticket=ticket, actor=people["agent"], upload=SimpleUploadedFile("a.pdf", b"%P"))
    few = count()
    for n in range(5):
        ticket_watch(ticket=ticket, user=UserFactory.create(), watch=True)
        ticket_attach(
            ticket=ticket, actor=people["agent"], upload=SimpleUploadedFile(f"{n}.pdf", b"%P")
        )
    assert count() == few
