"""Abuse limits on the chat (issue 11 item 5): one address opened 60 visitor sessions and 60
conversations in 2 s, and uploads were unthrottled. Over a rate the client gets 429 with
Retry-After and `{"error": "rate_limited", "message", "retry_after"}` (or an error frame on
the socket), and nothing is stored. Rates are tightened per test (the `rate_limits`
fixture); the defaults are in config/settings/base.py and docs/security.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from agents.models import GroupMembership
from core.ratelimits import RateLimited
from workbench.models import Conversation, Message, Visitor
from workbench.services.conversations import conversation_accept, conversation_close
from workbench.services.visitors import visitor_message_send, visitor_open
from workbench.tests import ws
from workbench.tests.helpers import make_channel, new_visitor, online_agent

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _session(channel, address="198.51.100.7", forwarded_for=None, **body):
    client = Client(REMOTE_ADDR=address)
    if forwarded_for:
        client.defaults["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(
        "/chat/api/session/", {"channel": channel.key, **body}, content_type="application/json"
    )


def _assert_rate_limited(response):
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "rate_limited"
    assert body["message"]
    assert isinstance(body["retry_after"], int) and 1 <= body["retry_after"] <= 3600
    assert response["Retry-After"] == str(body["retry_after"])


# --- Sessions -------------------------------------------------------------------------------


def _sessions_over_the_limit(rate_limits):
    rate_limits.KEFU_RATE_CHAT_SESSIONS = "3/minute"
    channel = make_channel()
    tokens = [_session(channel).json()["visitor_token"] for _ in range(3)]
    _assert_rate_limited(_session(channel))
    assert Visitor.objects.count() == 3
    # Resuming a session is not a new one; another address has its own count.
    assert _session(channel, visitor_token=tokens[0]).status_code == 200
    assert _session(channel, address="198.51.100.8").status_code == 200
    assert Visitor.objects.count() == 4


def test_new_sessions_per_address_are_limited(rate_limits):
    _sessions_over_the_limit(rate_limits)


@pytest.mark.redis
def test_new_sessions_per_address_are_limited_in_redis(redis_rate_limits):
    _sessions_over_the_limit(redis_rate_limits)


def test_behind_a_trusted_proxy_each_forwarded_address_counts_alone(rate_limits):
    rate_limits.KEFU_RATE_CHAT_SESSIONS = "1/minute"
    rate_limits.KEFU_TRUSTED_PROXY_COUNT = 1
    channel = make_channel()
    proxy = "10.0.0.2"
    assert _session(channel, proxy, forwarded_for="203.0.113.1").status_code == 200
    assert _session(channel, proxy, forwarded_for="203.0.113.2").status_code == 200
    _assert_rate_limited(_session(channel, proxy, forwarded_for="203.0.113.1"))


def test_the_message_is_translated(rate_limits):
    rate_limits.KEFU_RATE_CHAT_SESSIONS = "1/minute"
    channel = make_channel()
    _session(channel)
    response = Client(REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        "/chat/api/session/", {"channel": channel.key}, content_type="application/json"
    )
    assert "秒后再试" in response.json()["message"]


# --- Conversation starts ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_conversation_starts_per_address_over_the_socket(rate_limits):
    rate_limits.KEFU_RATE_CONVERSATIONS_PER_ADDRESS = "2/minute"
    rate_limits.KEFU_TRUSTED_PROXY_COUNT = 1
    channel = make_channel()
    tokens = [new_visitor(channel)[1] for _ in range(3)]

    async def go():
        answers = []
        for n, token in enumerate(tokens):
            hdrs = [*ws.headers(), (b"x-forwarded-for", b"203.0.113.9")]
            communicator, connected, _code = await ws.connect(ws.VISITOR_PATH, hdrs)
            assert connected
            await communicator.send_json_to({"type": "hello", "visitor_token": token})
            await ws.until(communicator, "welcome")
            frame = {"type": "send", "client_id": f"c{n}", "text": "hello", "ref": f"r{n}"}
            await communicator.send_json_to(frame)
            while True:
                answer = await communicator.receive_json_from(timeout=15)
                if answer["type"] in ("ack", "error"):
                    break
            answers.append(answer)
            await communicator.disconnect()
        return answers

    answers = async_to_sync(go)()
    assert [a["type"] for a in answers] == ["ack", "ack", "error"]
    refused = answers[2]
    assert (refused["code"], refused["client_id"], refused["ref"]) == ("rate_limited", "c2", "r2")
    assert refused["retry_after"] >= 1
    assert Conversation.objects.count() == 2
    assert not Message.objects.filter(client_id="c2").exists()


def test_conversation_starts_per_visitor(rate_limits, people):
    rate_limits.KEFU_RATE_CONVERSATIONS_PER_VISITOR = "1/hour"
    channel = make_channel(greeting="")
    agent = online_agent(channel.default_group)
    visitor, _token = new_visitor(channel)
    first = visitor_message_send(visitor=visitor, client_id="c1", text="hi", address="192.0.2.1")
    conversation_accept(conversation_id=first.conversation.pk, agent=agent)
    conversation_close(conversation_id=first.conversation.pk, actor=agent)
    with pytest.raises(RateLimited):
        visitor_message_send(visitor=visitor, client_id="c2", text="again", address="192.0.2.1")
    assert Conversation.objects.count() == 1
    assert not Message.objects.filter(client_id="c2").exists()


# --- Uploads ------------------------------------------------------------------------------


def _upload(token, client_id, content=PNG, address="198.51.100.7"):
    return Client(REMOTE_ADDR=address).post(
        "/chat/api/attachments/",
        {"client_id": client_id, "file": SimpleUploadedFile("p.png", content)},
        headers={"X-Visitor-Token": token},
    )


def test_visitor_uploads_per_minute(rate_limits, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rate_limits.KEFU_RATE_UPLOADS_PER_VISITOR = "2/minute"
    token = visitor_open(channel=make_channel(greeting="")).token
    assert _upload(token, "f1").status_code == 200
    assert _upload(token, "f2").status_code == 200
    before = _files(tmp_path)
    _assert_rate_limited(_upload(token, "f3"))
    assert _files(tmp_path) == before
    assert Message.objects.count() == 2


def _upload_volume_over_the_limit(rate_limits, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rate_limits.KEFU_RATE_UPLOAD_MB_PER_VISITOR = "1/hour"
    token = visitor_open(channel=make_channel(greeting="")).token
    big = PNG + b"\x00" * (600 * 1024)
    assert _upload(token, "f1", big).status_code == 200
    before = _files(tmp_path)
    _assert_rate_limited(_upload(token, "f2", big))
    assert _files(tmp_path) == before
    assert Message.objects.count() == 1


def test_visitor_upload_volume_per_hour(rate_limits, settings, tmp_path):
    _upload_volume_over_the_limit(rate_limits, settings, tmp_path)


@pytest.mark.redis
def test_visitor_upload_volume_per_hour_in_redis(redis_rate_limits, settings, tmp_path):
    # Bytes are a cost per hit: counted by Redis's script as in production.
    _upload_volume_over_the_limit(redis_rate_limits, settings, tmp_path)


def test_upload_volume_per_address_across_visitors(rate_limits, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rate_limits.KEFU_RATE_UPLOAD_MB_PER_ADDRESS = "1/hour"
    channel = make_channel(greeting="")
    big = PNG + b"\x00" * (600 * 1024)
    assert _upload(visitor_open(channel=channel).token, "f1", big).status_code == 200
    _assert_rate_limited(_upload(visitor_open(channel=channel).token, "f2", big))
    # Nothing was started for the refused one either.
    assert Conversation.objects.count() == 1


def test_a_refused_upload_starts_no_conversation(rate_limits, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rate_limits.KEFU_RATE_UPLOADS_PER_VISITOR = "1/minute"
    channel = make_channel(greeting="")
    token = visitor_open(channel=channel).token
    assert _upload(token, "f1").status_code == 200
    conversation = Conversation.objects.get()
    agent = online_agent(channel.default_group)
    conversation_accept(conversation_id=conversation.pk, agent=agent)
    conversation_close(conversation_id=conversation.pk, actor=agent)
    _assert_rate_limited(_upload(token, "f2"))
    assert Conversation.objects.count() == 1


def test_agent_uploads_per_user(rate_limits, settings, tmp_path, people, shop_a, client_for):
    settings.MEDIA_ROOT = tmp_path
    rate_limits.KEFU_RATE_UPLOADS_PER_USER = "2/minute"
    channel = make_channel(shop=shop_a)
    GroupMembership.objects.create(group=channel.default_group, user=people["merchant_a"])
    conversation = visitor_message_send(
        visitor=visitor_open(channel=channel).visitor, client_id="c1", text="hi"
    ).conversation
    conversation_accept(conversation_id=conversation.pk, agent=people["merchant_a"])
    url = reverse("workbench:api_upload", args=[conversation.pk])
    client = client_for("merchant_a")

    def post(client_id):
        file = SimpleUploadedFile("note.txt", b"tracking SF123")
        return client.post(url, {"client_id": client_id, "file": file})

    assert post("u1").status_code == 200
    assert post("u2").status_code == 200
    before = _files(tmp_path)
    _assert_rate_limited(post("u3"))
    assert _files(tmp_path) == before
    assert not Message.objects.filter(client_id="u3").exists()
