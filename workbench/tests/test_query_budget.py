"""The hot paths cost a fixed, small number of queries (what a load test relies on)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workbench.services.conversations import conversation_accept, conversation_start
from workbench.services.messages import message_send
from workbench.services.visitors import visitor_open
from workbench.tests.helpers import make_channel, online_agent


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_message_send_costs_what_production_pays():
    """Measured as production runs it: outside any transaction (a consumer's call), so on
    PostgreSQL the fast statement (docs/decisions/0002-chat-fast-send-path.md) and on
    SQLite (the demo) the general path."""
    channel = make_channel(greeting="")
    agent = online_agent(channel.default_group)
    conversation = conversation_start(visitor=visitor_open(channel=channel).visitor)
    conversation.refresh_from_db()  # routed on commit, to the only agent online
    if conversation.agent_id is None:
        conversation_accept(conversation_id=conversation.pk, agent=agent)

    def customer(n):
        return lambda: message_send(
            conversation_id=conversation.pk, sender="customer", client_id=f"c{n}", text="hi"
        )

    customer(0)()
    assert not connection.in_atomic_block
    sqls = _count(customer(1))
    retry = _count(customer(1))
    general = [s for s in retry if not s.startswith("WITH")]
    if connection.vendor == "postgresql":
        # One prepared statement: lock, seq, read marker and insert together.
        assert len(sqls) == 1 and sqls[0].startswith("WITH c AS (UPDATE"), sqls
        # A resend: the statement hits the client-id index and changes nothing; the
        # general path then decides (below).
        assert len(retry) - len(general) == 1, retry
    else:
        writes = [s for s in sqls if s.startswith(("INSERT", "UPDATE"))]
        # No lookup first: UPDATE … RETURNING (lock + seq) and the insert, in one transaction.
        assert len(writes) == 2, sqls
        assert len(sqls) <= 4, "\n".join(sqls)
    # A resend on the general path: the same two statements, rolled back by the unique
    # index, and one read.
    assert len([s for s in general if s.startswith("SELECT")]) == 1, retry
    assert len([s for s in general if s.startswith(("INSERT", "UPDATE"))]) == 2, retry


@pytest.mark.django_db
def test_general_path_is_one_transaction_with_few_queries():
    """Inside a transaction (an HTTP upload, a service calling another) the fast path
    stands aside: two writes, no lookup first."""
    channel = make_channel(greeting="")
    conversation = conversation_start(visitor=visitor_open(channel=channel).visitor)
    sqls = _count(
        lambda: message_send(
            conversation_id=conversation.pk, sender="customer", client_id="c1", text="hi"
        )
    )
    writes = [s for s in sqls if s.startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 2 and not any(s.startswith("WITH") for s in sqls), sqls
    assert len(sqls) <= 4, "\n".join(sqls)


@pytest.mark.django_db
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
