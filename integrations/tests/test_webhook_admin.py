"""The webhook admin: endpoints with a test action, a read-only delivery log, retry now."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.tests.factories import SkillGroupFactory
from integrations.models import WebhookDelivery
from integrations.services import webhook_emit
from integrations.tests.factories import WebhookAllowedHostFactory, WebhookEndpointFactory
from integrations.tests.receiver import Received, receiver
from knowledge.models import KnowledgeCategory
from knowledge.tests.factories import (
    CannedReplyFactory,
    KnowledgeArticleFactory,
    KnowledgeQAFactory,
)
from tests.permissions import assert_matrix

pytestmark = pytest.mark.django_db

ADMIN_ONLY = {
    "anonymous": 302,
    "admin": 200,
    "supervisor": 302,
    "agent": 302,
    "merchant_a": 302,
    "merchant_b": 302,
    "business": 302,
}


@pytest.mark.parametrize(
    "name",
    [
        "admin:integrations_webhookendpoint_changelist",
        "admin:integrations_webhookendpoint_add",
        "admin:integrations_webhookdelivery_changelist",
        "admin:integrations_webhookallowedhost_changelist",
        "admin:knowledge_cannedreply_changelist",
        "admin:knowledge_cannedreply_add",
        "admin:knowledge_knowledgeqa_changelist",
        "admin:knowledge_knowledgearticle_changelist",
        "admin:knowledge_knowledgecategory_changelist",
    ],
)
def test_admin_pages_are_for_admins_only(client_for, name):
    assert_matrix(client_for, reverse(name), ADMIN_ONLY)


def test_send_test_event_action_reaches_the_receiver(
    client_for, django_capture_on_commit_callbacks
):
    WebhookAllowedHostFactory.create(host="127.0.0.1")
    with receiver() as r, django_capture_on_commit_callbacks(execute=True):
        endpoint = WebhookEndpointFactory.create(url=r.url, event_types=[])
        response = client_for("admin").post(
            reverse("admin:integrations_webhookendpoint_changelist"),
            {"action": "send_test_event", "_selected_action": [endpoint.pk]},
            follow=True,
        )
    assert response.status_code == 200
    [got] = r.requests
    assert got.headers["x-kefu-event"] == "webhook.test"
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED


def test_delivery_log_lists_filters_and_shows_payload_and_error(client_for):
    endpoint = WebhookEndpointFactory.create(url="http://10.0.0.9/hook")
    [delivery] = webhook_emit(event_type="ticket.created", payload={"订单": "NW1"}, shop_id=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error="blocked: private")
    admin = client_for("admin")
    url = reverse("admin:integrations_webhookdelivery_changelist")
    listing = admin.get(url, {"status__exact": "pending", "endpoint__id__exact": endpoint.pk})
    assert listing.status_code == 200
    assert reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]) in (
        listing.content.decode()
    )
    detail = admin.get(reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200
    assert "blocked: private" in body
    assert "<pre>{\n  &quot;订单&quot;: &quot;NW1&quot;\n}</pre>" in body
    assert 'name="_save"' not in body  # read-only


def test_retry_now_action_calls_the_delivery_service(client_for):
    WebhookAllowedHostFactory.create(host="127.0.0.1")
    codes = iter([500, 200])

    def flaky(_req: Received):
        return next(codes), {}, b""

    with receiver(flaky) as r:
        WebhookEndpointFactory.create(url=r.url)
        [delivery] = webhook_emit(event_type="ticket.created", payload={}, shop_id=None)
        admin = client_for("admin")
        url = reverse("admin:integrations_webhookdelivery_changelist")
        for _ in range(2):
            admin.post(url, {"action": "retry_now", "_selected_action": [delivery.pk]})
            delivery.refresh_from_db()
        # A third click on a succeeded delivery sends nothing.
        admin.post(url, {"action": "retry_now", "_selected_action": [delivery.pk]})
    assert len(r.requests) == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.SUCCEEDED, 2)


def test_endpoint_form_refuses_a_private_url_unless_allow_listed(client_for):
    admin = client_for("admin")
    url = reverse("admin:integrations_webhookendpoint_add")
    data = {
        "name": "Internal CRM",
        "url": "http://10.1.2.3/hook",
        "event_types": ["ticket.created"],
        "secret": "whsec_x",
        "is_active": "on",
    }
    response = admin.post(url, data)
    assert response.status_code == 200
    assert "will not call this address" in response.content.decode()
    WebhookAllowedHostFactory.create(host="10.1.2.3")
    assert admin.post(url, data).status_code == 302


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _add_rows(shop) -> None:
    group = SkillGroupFactory.create(shop=shop)
    endpoint = WebhookEndpointFactory.create(shop=shop)
    WebhookDelivery.objects.create(endpoint=endpoint, event_type="ticket.created")
    CannedReplyFactory.create(scope="group", group=group, shop=shop)
    category = KnowledgeCategory.objects.create(name=f"C{endpoint.pk}", shop=shop)
    KnowledgeQAFactory.create(category=category, shop=shop)
    KnowledgeArticleFactory.create(category=category, shop=shop)


@pytest.mark.parametrize(
    "model",
    [
        "integrations_webhookdelivery",
        "integrations_webhookendpoint",
        "knowledge_cannedreply",
        "knowledge_knowledgeqa",
        "knowledge_knowledgearticle",
    ],
)
def test_admin_lists_do_not_grow_with_rows(client_for, shop_a, model):
    client = client_for("admin")
    url = reverse(f"admin:{model}_changelist")
    _add_rows(shop_a)
    _queries(client, url)  # warm caches
    few = _queries(client, url)
    for _ in range(6):
        _add_rows(shop_a)
    assert _queries(client, url) == few


def test_group_and_category_filters_filter(client_for, shop_a):
    group = SkillGroupFactory.create(name="Filter me", shop=shop_a)
    CannedReplyFactory.create(title="In group", scope="group", group=group, shop=shop_a)
    CannedReplyFactory.create(title="Elsewhere", scope="shared")
    category = KnowledgeCategory.objects.create(name="Returns")
    KnowledgeQAFactory.create(question="Inside?", category=category)
    KnowledgeQAFactory.create(question="Outside?")
    admin = client_for("admin")
    replies = admin.get(
        reverse("admin:knowledge_cannedreply_changelist"), {"group_id": group.pk}
    ).content.decode()
    assert "In group" in replies and "Elsewhere" not in replies
    qas = admin.get(
        reverse("admin:knowledge_knowledgeqa_changelist"), {"category_id": category.pk}
    ).content.decode()
    assert "Inside?" in qas and "Outside?" not in qas


def test_detail_page_retry_button(client_for):
    WebhookAllowedHostFactory.create(host="127.0.0.1")
    with receiver() as r:
        WebhookEndpointFactory.create(url=r.url)
        [delivery] = webhook_emit(event_type="ticket.created", payload={}, shop_id=None)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="gave_up", attempts=8)
        admin = client_for("admin")
        detail = reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk])
        retry = reverse("admin:integrations_webhookdelivery_retry", args=[delivery.pk])
        assert retry in admin.get(detail).content.decode()
        assert admin.get(retry).status_code == 405
        assert client_for("agent").post(retry).status_code == 302  # to the admin login
        assert r.requests == []
        response = admin.post(retry)
        assert response.status_code == 302 and response["Location"] == detail
        assert len(r.requests) == 1
        assert retry not in admin.get(detail).content.decode()  # succeeded: no button
