"""visitor_message_send: the customer's one way to send, for the socket and for uploads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from workbench.errors import ChatError
from workbench.models import Conversation, Message
from workbench.services.conversations import conversation_close
from workbench.services.visitors import visitor_message_send, visitor_open
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def visitor():
    return visitor_open(channel=make_channel(greeting="")).visitor


def test_first_message_starts_a_conversation_and_the_next_goes_into_it(visitor):
    first = visitor_message_send(visitor=visitor, client_id="c1", text="hello")
    second = visitor_message_send(
        visitor=visitor, client_id="c2", text="again", followed=first.conversation
    )
    assert (first.started, first.created, second.started) == (True, True, False)
    assert second.conversation.pk == first.conversation.pk and second.message.seq == 2


@pytest.mark.parametrize(
    ("client_id", "text", "code"),
    [("", "hi", "invalid_client_id"), ("c1", "  ", "empty"), ("c1", "x" * 4001, "too_long")],
)
def test_bad_input_starts_nothing(visitor, client_id, text, code):
    with pytest.raises(ChatError) as caught:
        visitor_message_send(visitor=visitor, client_id=client_id, text=text)
    assert caught.value.code == code
    assert not Conversation.objects.exists()


def test_a_closed_copy_is_looked_up_again_and_a_new_conversation_started(visitor):
    first = visitor_message_send(visitor=visitor, client_id="c1", text="hello")
    # Closed behind the caller's back: its copy still says open.
    Conversation.objects.filter(pk=first.conversation.pk).update(status="closed")
    later = visitor_message_send(
        visitor=visitor, client_id="c2", text="still there?", followed=first.conversation
    )
    assert later.started and later.conversation.pk != first.conversation.pk


def test_a_resend_after_the_close_gets_the_original_and_starts_nothing(visitor):
    first = visitor_message_send(visitor=visitor, client_id="c1", text="hello")
    conversation_close(conversation_id=first.conversation.pk, actor=None)
    again = visitor_message_send(visitor=visitor, client_id="c1", text="hello")
    assert (again.message.pk, again.created, again.started) == (first.message.pk, False, False)
    assert Conversation.objects.count() == 1
    with pytest.raises(ChatError) as caught:
        visitor_message_send(visitor=visitor, client_id="c1", text="other")
    assert caught.value.code == "client_id_reused"


def test_an_upload_resent_after_the_close_gets_the_original_over_http(settings, tmp_path):
    """The HTTP upload goes through the same service: the resend rule holds there too."""
    settings.MEDIA_ROOT = tmp_path
    session = visitor_open(channel=make_channel(greeting=""))

    def upload():
        return Client().post(
            "/chat/api/attachments/",
            {"client_id": "f1", "file": SimpleUploadedFile("p.png", PNG)},
            headers={"X-Visitor-Token": session.token},
        )

    first = upload().json()
    conversation_close(conversation_id=first["conversation_id"], actor=None)
    again = upload().json()
    assert (again["id"], again["conversation_id"]) == (first["id"], first["conversation_id"])
    assert Conversation.objects.count() == 1 and Message.objects.count() == 1
