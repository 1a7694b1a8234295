"""The hot paths cost a fixed, small number of queries (what a load test relies on)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workbench.services.conversations import conversation_accept, conversation_start
from workbench.services.messages import message_send
from workbench.services.visitors import visitor_open
from workbench.tests.helpers import make_channel, online_agent

pytestmark = pytest.mark.django_db


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def test_message_send_is_one_transaction_with_few_queries():
    channel = make_channel(greeting="")
    agent = online_agent(channel.default_group)
    conversation = conversation_start(visitor=visitor_open(channel=channel).visitor)
    conversation_accept(
        conversation_id=conversation.pk, agent=agent
    ) if conversation.agent_id is None else None

    def customer(n):
        return lambda: message_send(
            conversation_id=conversation.pk, sender="customer", client_id=f"c{n}", text="hi"
        )

    customer(0)()
    sqls = _count(customer(1))
    writes = [s for s in sqls if s.startswith(("INSERT", "UPDATE"))]
    # No lookup first: UPDATE … RETURNING (lock + seq) and the insert, in one transaction.
    assert len(writes) == 2, sqls
    assert len(sqls) <= 4, "\n".join(sqls)
    retry = _count(customer(1))
    # A resend: the same two statements, rolled back by the unique index, and one read.
    assert len([s for s in retry if s.startswith("SELECT")]) == 1, retry


def test_lists_api_does_not_grow_with_conversations(client_for, people):
    channel = make_channel()
    client = client_for("supervisor")
    conversation_start(visitor=visitor_open(channel=channel).visitor)
    client.get("/workbench/api/lists/")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/workbench/api/lists/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(8):
        conversation_start(visitor=visitor_open(channel=channel).visitor)
    assert count() == few
