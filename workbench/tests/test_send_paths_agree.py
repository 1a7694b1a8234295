"""The fast send path (one prepared statement, PostgreSQL) and the general path agree.

Each case is played twice, in two identical worlds: once with the fast path allowed (what
production runs on PostgreSQL outside a transaction) and once with the general path
forced. Both must leave the same message rows (every column), the same conversation and
service order rows (every column), answer the same (message or error code), and ring the
same doorbells with the same payloads. Ids, names and times differ between the worlds,
so they are compared by what they refer to: the first id seen of a model is that model's
"#0" in both worlds, and two times are equal in one world exactly when they are in the
other (docs/decisions/0002-chat-fast-send-path.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.db.models import Model

from agents.models import User
from core.realtime import collected_broadcasts
from service_orders.models import ServiceOrder
from workbench.errors import ChatError
from workbench.models import Conversation, Message
from workbench.services import messages
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_start,
)
from workbench.tests.helpers import make_channel, online_agent, start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class World:
    conversation: Conversation
    agent: User
    other: User

    def send(self, client_id: str, text: str, *, by: str = "customer", conversation=None):
        agent = {"customer": None, "agent": self.agent, "other": self.other}[by]
        return messages.message_send(
            conversation_id=(conversation or self.conversation).pk,
            sender="customer" if by == "customer" else "agent",
            client_id=client_id,
            text=text,
            agent=agent,
        )


def _world() -> World:
    channel = make_channel(greeting="Hello")
    agent = online_agent(channel.default_group)
    conversation = start(channel)
    if Conversation.objects.get(pk=conversation.pk).agent_id is None:
        conversation_accept(conversation_id=conversation.pk, agent=agent)
    conversation.refresh_from_db()
    assert conversation.agent_id == agent.pk
    return World(conversation, agent, online_agent(channel.default_group))


def _later_conversation(world: World) -> Conversation:
    conversation_close(conversation_id=world.conversation.pk, actor=None)
    return conversation_start(visitor=world.conversation.visitor)


# Each case: (set-up, always on the general path; the step compared across the paths).
Step = Callable[[World, Any], Any]
CASES: dict[str, tuple[Callable[[World], Any], Step]] = {
    "customer text": (lambda w: None, lambda w, _: w.send("c1", "Where is my tea?")),
    "agent first response": (
        lambda w: w.send("c1", "hello"),
        lambda w, _: w.send("a1", "Let me look.", by="agent"),
    ),
    "agent reply": (
        lambda w: w.send("a0", "Hi!", by="agent"),
        lambda w, _: w.send("a1", "Found it.", by="agent"),
    ),
    "customer resend": (
        lambda w: w.send("c1", "hello"),
        lambda w, _: w.send("c1", "hello"),
    ),
    "agent resend": (
        lambda w: (w.send("a0", "Hi!", by="agent"), w.send("a1", "Again", by="agent")),
        lambda w, _: w.send("a1", "Again", by="agent"),
    ),
    "resend with other text": (
        lambda w: w.send("c1", "hello"),
        lambda w, _: w.send("c1", "something else"),
    ),
    "resend into a later conversation": (
        lambda w: (w.send("c1", "hello"), _later_conversation(w))[1],
        lambda w, later: w.send("c1", "hello", conversation=later),
    ),
    "closed conversation": (
        lambda w: conversation_close(conversation_id=w.conversation.pk, actor=None),
        lambda w, _: w.send("c9", "anyone?"),
    ),
    "wrong agent": (lambda w: None, lambda w, _: w.send("x1", "mine now", by="other")),
}
# Where the fast statement itself must store the message (the rest it hands over).
FAST_STORES = {"customer text", "agent reply"}


class Names:
    """Names by first appearance, per kind: equal values get equal names."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Any, str]] = {}

    def __call__(self, kind: str, value: Any) -> Any:
        if value is None:
            return None
        table = self.tables.setdefault(kind, {})
        return table.setdefault(value, f"{kind}#{len(table)}")


def _row(obj: Model, names: Names) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in type(obj)._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if field.primary_key:
            value = names(type(obj).__name__, value)
        elif field.is_relation:
            value = names(getattr(field.related_model, "__name__", ""), value)
        elif isinstance(value, datetime):
            value = names("time", value)
        elif field.name == "attachment":
            value = str(value)
        out[field.name] = value
    return out


_KINDS = {
    "conversation_id": "Conversation",
    "group_id": "SkillGroup",
    "agent_name": "name",
    "created_at": "time",
}


def _event(value: Any, names: Names, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _event(v, names, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_event(v, names) for v in value]
    if key == "created_at" and value:
        return names("time", datetime.fromisoformat(value))
    if key == "id":
        return names("Message", value)
    if key in _KINDS:
        return names(_KINDS[key], value)
    return value


def _play(name: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[bool]]:
    """Play a case in a new world; what it leaves behind, named, and which sends the fast
    statement stored."""
    real = messages._fast_send
    allow_fast = False
    stored_fast: list[bool] = []

    def chooser(*args: Any, **kwargs: Any) -> Message | None:
        if not allow_fast:
            return None
        result = real(*args, **kwargs)
        stored_fast.append(result is not None)
        return result

    monkeypatch.setattr(messages, "_fast_send", chooser)
    set_up, step = CASES[name]
    world = _world()
    arranged = set_up(world)
    # Name what exists before the step first, in the same order in both worlds.
    names = Names()
    names("User", world.agent.pk)
    names("User", world.other.pk)
    names("name", world.agent.name)
    names("name", world.other.name)
    visitor = world.conversation.visitor
    for conversation in Conversation.objects.filter(visitor=visitor).order_by("pk"):
        names("Conversation", conversation.pk)
    for message in Message.objects.filter(conversation__visitor=visitor).order_by("pk"):
        names("Message", message.pk)

    allow_fast = fast
    outbox: list[tuple[str, dict[str, Any]]] = []
    with collected_broadcasts(outbox):
        try:
            message, created = step(world, arranged)
            answer: Any = (names("Message", message.pk), message.seq, created)
        except ChatError as error:
            answer = error.code
    allow_fast = False
    monkeypatch.setattr(messages, "_fast_send", real)

    conversations = Conversation.objects.filter(visitor=visitor).order_by("pk")
    left = {
        "answer": answer,
        "messages": [
            _row(m, names) for m in Message.objects.filter(conversation__in=conversations)
        ],
        "conversations": [_row(c, names) for c in conversations],
        "service_orders": [
            _row(o, names)
            for o in ServiceOrder.objects.filter(conversation__in=conversations).order_by("pk")
        ],
        "doorbells": [
            (
                group.rsplit(".", 1)[0]
                + "."
                + str(names("Conversation", int(group.rsplit(".")[1]))),
                _event(event, names),
            )
            for group, event in outbox
        ],
    }
    return left, stored_fast


@pytest.mark.parametrize("case", list(CASES))
def test_both_paths_leave_the_same_rows_answers_and_doorbells(case, monkeypatch):
    general, _ = _play(case, fast=False, monkeypatch=monkeypatch)
    fast, stored_fast = _play(case, fast=True, monkeypatch=monkeypatch)
    # The fast run did try the statement, and it stored exactly the plain sends.
    assert stored_fast == [case in FAST_STORES], stored_fast
    assert fast == general


def test_a_seq_taken_twice_is_raised_not_taken_for_a_resend():
    """Only the two client-id indexes mean "resend": any other integrity error from the
    fast statement (here the seq index, as if the counter had gone wrong) is raised."""
    world = _world()
    Message.objects.create(
        conversation=world.conversation,
        seq=world.conversation.last_seq + 1,
        sender="system",
        text="squatter",
    )
    assert not connection.in_atomic_block
    with pytest.raises(IntegrityError) as caught:
        messages._fast_send(world.conversation.pk, "customer", "c1", "hello", None)
    diag = getattr(caught.value.__cause__, "diag", None)
    assert diag is not None and diag.constraint_name == "message_unique_seq"
    with pytest.raises(IntegrityError):
        world.send("c1", "hello")
    assert not Message.objects.filter(client_id="c1").exists()


def test_fast_statement_is_built_from_the_models():
    sql = messages._fast_send_sql("customer")
    assert f'INSERT INTO "{Message._meta.db_table}"' in sql
    assert f'UPDATE "{Conversation._meta.db_table}"' in sql
    for field in Message._meta.concrete_fields:
        if not field.primary_key:
            assert f'"{field.column}"' in sql
