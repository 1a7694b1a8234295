"""The customer's HTTP side: visitor sessions, uploads, who may download a chat file."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from workbench.models import Message
from workbench.services.visitors import identity_hash, visitor_open
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _json(client, url, body):
    return client.post(url, data=body, content_type="application/json")


def test_session_gives_a_token_and_resumes_it():
    channel = make_channel(greeting="Hi there")
    client = Client()
    first = _json(client, "/chat/api/session/", {"channel": channel.key})
    assert first.status_code == 200
    data = first.json()
    assert data["channel"]["greeting"] == "Hi there" and data["identified"] is False
    again = _json(
        client,
        "/chat/api/session/",
        {"channel": channel.key, "visitor_token": data["visitor_token"]},
    )
    assert again.json()["visitor_token"] == data["visitor_token"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "nope"}, 404, "unknown_channel"),
        ("[1]", 400, "bad_request"),
        ({"channel": 5}, 400, "bad_request"),
        ({"customer_id": "C1", "customer_hash": "00"}, 403, "identity_invalid"),
    ],
)
def test_session_errors(body, status, code):
    channel = make_channel()
    if isinstance(body, dict) and "channel" not in body:
        body["channel"] = channel.key
    response = _json(Client(), "/chat/api/session/", body)
    assert response.status_code == status and response.json()["error"] == code


def test_identified_session():
    channel = make_channel()
    body = {
        "channel": channel.key,
        "customer_id": "C77",
        "customer_hash": identity_hash(channel.identity_secret, "C77"),
    }
    assert _json(Client(), "/chat/api/session/", body).json()["identified"] is True


def _upload(token, name="p.png", content=PNG, client_id="f1"):
    return Client().post(
        "/chat/api/attachments/",
        {"client_id": client_id, "file": SimpleUploadedFile(name, content)},
        headers={"X-Visitor-Token": token},
    )


def test_upload_image_starts_conversation_and_is_idempotent(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    channel = make_channel(greeting="")
    token = visitor_open(channel=channel).token
    first = _upload(token)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["message"]["attachment"]["is_image"] and body["seq"] == 1
    again = _upload(token)
    assert again.json()["id"] == body["id"]
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("evil.exe", b"MZ....", "file_type"),
        ("fake.png", b"not a png at all", "file_type"),
        ("empty.txt", b"", "file_empty"),
    ],
)
def test_bad_files_are_refused_and_start_nothing(name, content, code, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    token = visitor_open(channel=make_channel()).token
    response = _upload(token, name=name, content=content)
    assert response.status_code == 400 and response.json()["error"] == code
    assert Message.objects.count() == 0


def test_too_large_file_is_refused(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr("workbench.services.messages.MAX_ATTACHMENT_BYTES", 10)
    token = visitor_open(channel=make_channel()).token
    response = _upload(token)
    assert response.json()["error"] == "file_too_large"


def test_upload_needs_a_visitor_token():
    response = _upload("forged")
    assert response.status_code == 401


def test_only_participants_download(settings, tmp_path, people, shop_a, client_for):
    settings.MEDIA_ROOT = tmp_path
    channel = make_channel(shop=shop_a, greeting="")
    token = visitor_open(channel=channel).token
    message_id = _upload(token).json()["id"]
    url = f"/chat/files/{message_id}/"
    assert Client().get(url, headers={"X-Visitor-Token": token}).status_code == 200
    stranger = visitor_open(channel=channel).token
    assert Client().get(url, headers={"X-Visitor-Token": stranger}).status_code == 404
    from tests.permissions import assert_matrix

    assert_matrix(
        client_for,
        url,
        {
            "anonymous": 404,
            "admin": 200,
            "supervisor": 200,
            "agent": 200,
            "merchant_a": 200,
            "merchant_b": 404,
            "business": 404,
        },
    )


def test_chat_page_may_be_framed_by_shops_and_demo_page_shows_the_tag():
    channel = make_channel()
    response = Client().get(f"/chat/{channel.key}/?embed=1")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert Client().get("/chat/nope/").status_code == 404
    demo = Client().get(f"/chat/demo/?channel={channel.key}")
    assert demo.status_code == 200
    assert f'data-channel="{channel.key}"' in demo.content.decode()


def test_demo_page_signs_a_customer_only_in_development(settings):
    channel = make_channel()
    url = f"/chat/demo/?channel={channel.key}&customer=C1001"
    settings.DEBUG = False
    assert "data-customer-hash" not in Client().get(url).content.decode()
    settings.DEBUG = True
    page = Client().get(url).content.decode()
    assert f'data-customer-hash="{identity_hash(channel.identity_secret, "C1001")}"' in page
