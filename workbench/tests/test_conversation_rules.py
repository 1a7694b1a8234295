"""Who may close and transfer a conversation, and who may receive one: asked by the
services themselves (workbench/permissions.py), so every transport gets the same answer."""

from __future__ import annotations

import pytest

from agents.capabilities import may
from agents.models import GroupMembership
from agents.roles import Role
from agents.tests.factories import SkillGroupFactory, UserFactory
from workbench.errors import ChatError
from workbench.models import Conversation
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_transfer,
)
from workbench.tests.helpers import make_channel, online_agent, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(shop_a):
    """A shop A conversation held by one merchant agent, a colleague beside them."""
    channel = make_channel(shop=shop_a, greeting="")
    holder = online_agent(channel.default_group, role=Role.MERCHANT_AGENT, shops=[shop_a])
    colleague = UserFactory.create(role=Role.MERCHANT_AGENT, shops=[shop_a])
    conversation = start(channel)
    if Conversation.objects.get(pk=conversation.pk).agent_id is None:
        conversation_accept(conversation_id=conversation.pk, agent=holder)
    conversation.refresh_from_db()
    assert conversation.agent == holder
    return conversation, holder, colleague


def _refused(code, fn, **kwargs):
    with pytest.raises(ChatError) as caught:
        fn(**kwargs)
    assert caught.value.code == code


def test_a_colleague_who_does_not_hold_it_cannot_close_it(held):
    conversation, _holder, colleague = held
    _refused(
        "not_your_conversation",
        conversation_close,
        conversation_id=conversation.pk,
        actor=colleague,
    )
    conversation.refresh_from_db()
    assert conversation.status == "active"


def test_the_holder_and_a_supervisor_may_close(held, people):
    conversation, holder, colleague = held
    assert may(holder, "close", conversation) and not may(colleague, "close", conversation)
    assert may(people["supervisor"], "close", conversation)
    conversation_close(conversation_id=conversation.pk, actor=people["supervisor"])
    conversation.refresh_from_db()
    assert conversation.status == "closed"


def test_another_shops_agent_cannot_close_even_an_unheld_one(shop_a, people):
    conversation = start(make_channel(shop=shop_a, greeting=""))
    assert conversation.agent_id is None
    _refused(
        "not_your_conversation",
        conversation_close,
        conversation_id=conversation.pk,
        actor=people["merchant_b"],
    )
    # Anyone in scope closes a waiting one (nobody holds it yet).
    conversation_close(conversation_id=conversation.pk, actor=people["merchant_a"])


def test_a_colleague_who_does_not_hold_it_cannot_transfer_it(held):
    conversation, holder, colleague = held
    _refused(
        "not_your_conversation",
        conversation_transfer,
        conversation_id=conversation.pk,
        actor=colleague,
        to_agent=colleague,
    )
    conversation.refresh_from_db()
    assert conversation.agent == holder


def test_a_supervisor_may_transfer_someone_elses(held, people):
    conversation, _holder, colleague = held
    conversation_transfer(
        conversation_id=conversation.pk, actor=people["supervisor"], to_agent=colleague
    )
    conversation.refresh_from_db()
    assert conversation.agent == colleague


@pytest.mark.parametrize("target", ["merchant_b", "admin", "business"])
def test_only_a_seat_that_sees_the_shop_may_receive_it(held, people, target):
    """Another shop's agent, an admin (no seat), business staff (no seat): refused."""
    conversation, holder, _colleague = held
    assert not may(people[target], "hold", conversation)
    _refused(
        "unknown_agent",
        conversation_transfer,
        conversation_id=conversation.pk,
        actor=holder,
        to_agent=people[target],
    )
    conversation.refresh_from_db()
    assert conversation.agent == holder


def test_another_shops_group_cannot_receive_it(held, shop_b):
    conversation, holder, _colleague = held
    _refused(
        "unknown_group",
        conversation_transfer,
        conversation_id=conversation.pk,
        actor=holder,
        to_group=SkillGroupFactory.create(shop=shop_b),
    )


def test_the_holder_transfers_to_a_colleague_and_a_platform_group(held):
    conversation, holder, colleague = held
    assert may(colleague, "hold", conversation)
    conversation_transfer(conversation_id=conversation.pk, actor=holder, to_agent=colleague)
    platform_group = SkillGroupFactory.create(shop=None)
    GroupMembership.objects.create(group=platform_group, user=colleague)
    conversation_transfer(conversation_id=conversation.pk, actor=colleague, to_group=platform_group)
    conversation.refresh_from_db()
    assert (conversation.group, conversation.agent) == (platform_group, None)
