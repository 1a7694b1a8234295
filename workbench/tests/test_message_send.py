"""message_send: per-conversation seq, idempotent client ids, and the rules around them."""

import threading

import pytest
from django.db import connection

from workbench.errors import ChatError
from workbench.models import Conversation, Message
from workbench.selectors import messages_after
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_start,
)
from workbench.services.messages import message_send
from workbench.tests.helpers import make_channel, online_agent, start

pytestmark = pytest.mark.django_db


def _send(conv, client_id, text="hi", sender="customer", agent=None):
    return message_send(
        conversation_id=conv.pk, sender=sender, client_id=client_id, text=text, agent=agent
    )


def test_seq_counts_up_from_the_greeting():
    conv = start(make_channel(greeting="Welcome"))
    first, created = _send(conv, "c1")
    second, _ = _send(conv, "c2", "again")
    assert created and (first.seq, second.seq) == (2, 3)
    assert [m.seq for m in messages_after(conversation=conv, after_seq=0)] == [1, 2, 3]
    assert [m.seq for m in messages_after(conversation=conv, after_seq=2)] == [3]
    conv.refresh_from_db()
    assert conv.last_seq == 3


def test_retry_with_same_client_id_returns_the_original():
    conv = start(make_channel(greeting=""))
    first, created = _send(conv, "same", "hello")
    again, created_again = _send(conv, "same", "hello")
    assert created and not created_again and again.pk == first.pk
    assert Message.objects.count() == 1


def test_same_client_id_with_other_text_is_rejected():
    conv = start(make_channel(greeting=""))
    _send(conv, "same", "hello")
    with pytest.raises(ChatError) as err:
        _send(conv, "same", "something else")
    assert err.value.code == "client_id_reused"
    assert Message.objects.count() == 1


def test_same_client_id_from_the_other_side_is_a_different_message():
    channel = make_channel(greeting="")
    agent = online_agent(channel.default_group)
    conv = start(channel)
    conversation_accept(conversation_id=conv.pk, agent=agent)
    _send(conv, "x", "from customer")
    reply, created = _send(conv, "x", "from agent", sender="agent", agent=agent)
    assert created and reply.seq == 2


@pytest.mark.parametrize(
    ("client_id", "text", "code"),
    [
        ("", "hi", "invalid_client_id"),
        ("a" * 65, "hi", "invalid_client_id"),
        ("ok", "", "empty"),
        ("ok", "x" * 4001, "too_long"),
        ("ok", 12, "invalid_text"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(client_id, text, code):
    conv = start(make_channel(greeting=""))
    with pytest.raises(ChatError) as err:
        _send(conv, client_id, text)
    assert err.value.code == code
    assert Message.objects.count() == 0


def test_agent_who_does_not_hold_it_cannot_reply():
    channel = make_channel(greeting="")
    holder, other = online_agent(channel.default_group), online_agent(channel.default_group)
    conv = start(channel)
    conversation_accept(conversation_id=conv.pk, agent=holder)
    with pytest.raises(ChatError) as err:
        _send(conv, "r1", "me too", sender="agent", agent=other)
    assert err.value.code == "not_your_conversation"
    conv.refresh_from_db()
    assert conv.last_seq == 0


def test_closed_conversation_takes_no_messages():
    conv = start(make_channel(greeting=""))
    conversation_close(conversation_id=conv.pk, actor=None)
    with pytest.raises(ChatError) as err:
        _send(conv, "late")
    assert err.value.code == "conversation_closed"
    assert Conversation.objects.get().last_seq == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_retries_store_one_row_and_all_get_it():
    conv = start(make_channel(greeting=""))
    results, errors = [], []
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            results.append(_send(conv, "race", "only once")[0].pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 8
    assert Message.objects.filter(conversation=conv).count() == 1
    conv.refresh_from_db()
    assert conv.last_seq == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_gapless_unique_seqs():
    conv = start(make_channel(greeting=""))
    barrier = threading.Barrier(6)

    def worker(n):
        try:
            barrier.wait()
            for i in range(10):
                _send(conv, f"w{n}-{i}", f"message {i}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = list(Message.objects.filter(conversation=conv).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, 61))


def test_a_customer_resend_into_a_later_conversation_returns_the_original():
    """The visitor's client ids are unique across their conversations: a resend whose
    first attempt landed in a conversation closed since is caught by the index and
    answered with the original, and the later conversation's seq does not move."""
    channel = make_channel(greeting="")
    first_conv = start(channel)
    original, _ = _send(first_conv, "dup", "same")
    conversation_close(conversation_id=first_conv.pk, actor=None)
    later = conversation_start(visitor=first_conv.visitor)
    again, created = _send(later, "dup", "same")
    assert (again.pk, again.conversation_id, created) == (original.pk, first_conv.pk, False)
    later.refresh_from_db()
    assert later.last_seq == 0
    with pytest.raises(ChatError) as caught:
        _send(later, "dup", "other text")
    assert caught.value.code == "client_id_reused"
    assert Message.objects.filter(client_id="dup").count() == 1


def test_a_resend_to_a_closed_conversation_returns_the_original():
    conv = start(make_channel(greeting=""))
    original, _ = _send(conv, "c1", "hello")
    conversation_close(conversation_id=conv.pk, actor=None)
    again, created = _send(conv, "c1", "hello")
    assert (again.pk, created) == (original.pk, False)
    with pytest.raises(ChatError) as caught:
        _send(conv, "c2", "new")
    assert caught.value.code == "conversation_closed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_plain_sends_on_postgres_are_one_statement_and_the_rest_goes_the_general_way(
    monkeypatch,
):
    """Outside a transaction, a plain text message is stored by one prepared statement;
    whatever it does not cover (the agent's first response, a resend, a closed
    conversation) changes nothing there and is decided by the general path."""
    from workbench.services import messages as services

    taken = []
    real = services._fast_send

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(services, "_fast_send", spy)
    channel = make_channel(greeting="")
    agent = online_agent(channel.default_group)
    conv = start(channel)
    if Conversation.objects.get(pk=conv.pk).agent_id is None:
        conversation_accept(conversation_id=conv.pk, agent=agent)

    first, _ = _send(conv, "c1", "hello")
    reply, _ = _send(conv, "a1", "first answer", sender="agent", agent=agent)
    second_reply, _ = _send(conv, "a2", "second answer", sender="agent", agent=agent)
    again, created = _send(conv, "c1", "hello")
    assert taken == [True, False, True, False]
    assert (again.pk, created) == (first.pk, False)
    assert [m.seq for m in (first, reply, second_reply)] == [1, 2, 3]
    stored = Message.objects.get(pk=first.pk)
    assert (stored.visitor_id, stored.client_id, stored.text) == (conv.visitor_id, "c1", "hello")
    assert Message.objects.get(pk=second_reply.pk).agent_id == agent.pk
    conv.refresh_from_db()
    assert (conv.last_seq, conv.customer_read_seq, conv.agent_read_seq) == (3, 1, 3)
    assert conv.first_response_at == reply.created_at
    with pytest.raises(ChatError) as caught:
        _send(conv, "x", "not mine", sender="agent", agent=online_agent(channel.default_group))
    assert caught.value.code == "not_your_conversation"
