"""NUL characters and lone surrogates get a clear 400 or error frame, and nothing is written
(issue 11, item 1): they used to end as a 500, a dropped socket, or an orphaned upload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from workbench.models import Message
from workbench.services.visitors import visitor_open
from workbench.tests import ws
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/search/?q=%00", "/workbench/quick-send/canned/?q=a%00b"])
def test_queries_with_nul_are_refused_with_400(client_for, path):
    response = client_for("agent").get(path)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_text"


@pytest.mark.parametrize("value", ["\u0000", "ab\ud800"])
def test_the_chat_session_refuses_unstorable_text(client, value):
    body = json.dumps({"channel": value})  # json escapes both: \\u0000, \\ud800
    response = client.post("/chat/api/session/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_text"


def test_a_surrogate_pair_is_an_ordinary_emoji_and_passes(client):
    channel = make_channel()
    body = json.dumps({"channel": channel.key, "customer_id": ""}).replace(
        '"customer_id": ""', '"visitor_token": "\\ud83d\\ude00"'
    )
    response = client.post("/chat/api/session/", body, content_type="application/json")
    assert response.status_code == 200


def test_an_upload_with_nul_in_its_fields_writes_no_file(client):
    channel = make_channel()
    token = visitor_open(channel=channel).token
    media = Path(settings.MEDIA_ROOT)
    before = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()
    response = client.post(
        "/chat/api/attachments/",
        {"client_id": "c\x001", "file": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n")},
        HTTP_X_VISITOR_TOKEN=token,
    )
    assert response.status_code == 400
    after = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()
    assert after == before
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_socket_frame_with_nul_gets_an_error_frame_and_the_socket_lives():
    channel = make_channel()
    token = visitor_open(channel=channel).token

    async def go():
        customer, _welcome = await ws.visitor(token)
        await customer.send_json_to(
            {"type": "send", "client_id": "c1", "text": "a\u0000b", "ref": "r1"}
        )
        error = await ws.until(customer, "error")
        assert (error["code"], error["ref"], error["client_id"]) == ("invalid_text", "r1", "c1")
        await customer.send_json_to({"type": "send", "client_id": "c2", "text": "fine"})
        assert (await ws.until(customer, "ack"))["client_id"] == "c2"
        await customer.disconnect()

    async_to_sync(go)()
