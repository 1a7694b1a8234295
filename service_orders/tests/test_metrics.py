"""Service-order metrics against hand-computed timelines."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from agents.models import AgentProfile
from service_orders.models import ServiceOrder
from service_orders.services import response_metrics
from workbench.models import Message
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_rate,
    conversation_transfer,
)
from workbench.services.messages import message_send
from workbench.tests.factories import IssueTypeFactory
from workbench.tests.helpers import make_channel, online_agent, start

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=ZoneInfo("UTC"))


class Clock:
    def __init__(self):
        self.now = T0

    def at(self, seconds):
        self.now = T0 + timedelta(seconds=seconds)


@pytest.fixture
def clock():
    c = Clock()
    with mock.patch("django.utils.timezone.now", lambda: c.now):
        yield c


def test_metrics_of_a_whole_conversation(clock):
    """Timeline (seconds from start):
    0 customer starts (queued, nobody online)    5 customer "hello?"
    40 agent accepts                             50 agent "hi"        (turn 1: 5→50 = 45 s)
    60 customer "order late"  70 customer "??"   90 agent "checking"  (turn 2: 60→90 = 30 s)
    100 agent "found it"                         130 transfer to colleague
    160 customer "thanks"                        175 colleague "bye"  (turn 3: 160→175 = 15)
    200 closed.
    wait = 40, first response = 50, handle = 200-40 = 160, customers 4, agents 4,
    average agent response = (45+30+15)/3 = 30."""
    channel = make_channel(greeting="Welcome")
    agent = online_agent(channel.default_group)
    colleague = online_agent(channel.default_group)
    AgentProfile.objects.filter(user__in=[agent, colleague]).update(state="offline")
    issue = IssueTypeFactory.create(name="Delivery")

    def say(sec, who, text, by=None):
        clock.at(sec)
        message_send(
            conversation_id=conv.pk, sender=who, client_id=f"{who}{sec}", text=text, agent=by
        )

    clock.at(0)
    conv = start(channel)
    say(5, "customer", "hello?")
    clock.at(40)
    conversation_accept(conversation_id=conv.pk, agent=agent)
    say(50, "agent", "hi", agent)
    say(60, "customer", "order late")
    say(70, "customer", "??")
    say(90, "agent", "checking", agent)
    say(100, "agent", "found it", agent)
    clock.at(130)
    conversation_transfer(conversation_id=conv.pk, actor=agent, to_agent=colleague)
    say(160, "customer", "thanks")
    say(175, "agent", "bye", colleague)
    clock.at(200)
    conversation_close(conversation_id=conv.pk, actor=colleague, issue_type=issue, summary="Late")
    clock.at(230)
    conversation_rate(conversation=conv, rating=4, comment="quick")

    order = ServiceOrder.objects.get(conversation=conv)
    assert order.queued_at == T0
    assert order.accepted_at == T0 + timedelta(seconds=40)
    assert order.first_response_at == T0 + timedelta(seconds=50)
    assert order.closed_at == T0 + timedelta(seconds=200)
    assert (order.wait_seconds, order.first_response_seconds, order.handle_seconds) == (40, 50, 160)
    assert (order.customer_messages, order.agent_messages) == (4, 4)
    assert order.avg_agent_response_seconds == 30
    assert (order.issue_type, order.summary, order.rating, order.rating_comment) == (
        issue,
        "Late",
        4,
        "quick",
    )
    assert order.agent == colleague
    path = [(s.kind, s.agent_id, int((s.at - T0).total_seconds())) for s in order.steps.all()]
    assert path == [
        ("queued", None, 0),
        ("accepted", agent.pk, 40),
        ("transferred", colleague.pk, 130),
        ("closed", colleague.pk, 200),
    ]


def test_routed_immediately_has_zero_wait(clock):
    channel = make_channel(greeting="")
    agent = online_agent(channel.default_group)
    clock.at(0)
    conv = start(channel)
    order = ServiceOrder.objects.get(conversation=conv)
    assert (order.agent, order.wait_seconds) == (agent, 0)


def test_unanswered_turn_does_not_count():
    def m(sender, sec):
        return Message(sender=sender, created_at=T0 + timedelta(seconds=sec))

    timeline = [m("system", 0), m("customer", 1), m("agent", 11), m("customer", 20)]
    assert response_metrics(timeline) == (2, 1, 10)
    assert response_metrics([]) == (0, 0, None)


@pytest.mark.parametrize("bad", [0, 6, "5", None, True, 3.5])
def test_rating_must_be_1_to_5(bad):
    from workbench.errors import ChatError

    conv = start(make_channel(greeting=""))
    conversation_close(conversation_id=conv.pk, actor=None)
    with pytest.raises(ChatError):
        conversation_rate(conversation=conv, rating=bad)


def test_open_conversation_cannot_be_rated():
    from workbench.errors import ChatError

    conv = start(make_channel(greeting=""))
    with pytest.raises(ChatError):
        conversation_rate(conversation=conv, rating=5)


def test_a_conversation_is_rated_once():
    from workbench.errors import ChatError

    conv = start(make_channel(greeting=""))
    conversation_close(conversation_id=conv.pk, actor=None)
    conversation_rate(conversation=conv, rating=2, comment="slow")
    with pytest.raises(ChatError) as err:
        conversation_rate(conversation=conv, rating=5, comment="changed my mind")
    assert err.value.code == "already_rated"
    order = ServiceOrder.objects.get(conversation=conv)
    assert (order.rating, order.rating_comment) == (2, "slow")
