"""The workbench socket's rights end with the user's (issue 11, item 2): a merchant agent
moved to another shop cannot keep watching the old shop's conversations, and sign-out or a
role without the workbench closes it."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from agents.models import AgentProfile, GroupMembership
from agents.roles import Role
from agents.services import user_set_role, user_set_shops
from agents.tests.factories import SkillGroupFactory
from workbench.tests import ws
from workbench.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def merchant(people, shop_a):
    group = SkillGroupFactory.create(shop=shop_a, name="A service")
    GroupMembership.objects.create(group=group, user=people["merchant_a"])
    AgentProfile.objects.filter(user=people["merchant_a"]).update(state="online")
    ChannelFactory.create(shop=shop_a, default_group=group)
    return people["merchant_a"], ws.headers(people["merchant_a"])


async def _closed_code(communicator):
    message = await communicator.receive_output(timeout=15)
    while message["type"] != "websocket.close":
        message = await communicator.receive_output(timeout=15)
    return message.get("code")


def test_moving_a_merchant_agent_to_another_shop_closes_the_socket_to_reconnect(merchant, shop_b):
    user, hdrs = merchant

    async def go():
        agent = await ws.agent(hdrs)
        await database_sync_to_async(user_set_shops)(user=user, shops=[shop_b])
        # 4005: still allowed, other rights: the client reconnects to a new scope.
        assert await _closed_code(agent) == 4005

    async_to_sync(go)()


def test_a_role_without_the_workbench_closes_the_socket_with_4403(merchant):
    user, hdrs = merchant

    async def go():
        agent = await ws.agent(hdrs)
        await database_sync_to_async(user_set_role)(user=user, role=Role.BUSINESS_STAFF)
        assert await _closed_code(agent) == 4403

    async_to_sync(go)()


def test_a_lost_doorbell_is_caught_by_the_recheck(merchant, shop_b, settings):
    settings.KEFU_SOCKET_RECHECK_SECONDS = 0.3
    user, hdrs = merchant

    async def go():
        agent = await ws.agent(hdrs)
        # Behind the services' back: no doorbell rings.
        await database_sync_to_async(user.shops.set)([shop_b])
        assert await _closed_code(agent) == 4005

    async_to_sync(go)()
