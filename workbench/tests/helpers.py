"""Small builders for chat tests: a channel whose group has online agents, a visitor."""

from __future__ import annotations

from agents.models import AgentProfile, GroupMembership, Shop, SkillGroup, User
from agents.roles import Role
from agents.tests.factories import SkillGroupFactory, UserFactory
from workbench.models import ChannelAccount, Conversation, Visitor
from workbench.services.conversations import conversation_start
from workbench.services.visitors import visitor_open
from workbench.tests.factories import ChannelFactory


def online_agent(group: SkillGroup, *, capacity: int = 5, role: Role = Role.AGENT, **kw) -> User:
    user = UserFactory.create(role=role, max_concurrent=capacity, **kw)
    GroupMembership.objects.create(group=group, user=user)
    AgentProfile.objects.filter(user=user).update(state=AgentProfile.State.ONLINE)
    return user


def make_channel(*, shop: Shop | None = None, greeting: str = "Hello!") -> ChannelAccount:
    group = SkillGroupFactory.create(shop=shop)
    return ChannelFactory.create(shop=shop, default_group=group, greeting=greeting)


def new_visitor(channel: ChannelAccount) -> tuple[Visitor, str]:
    session = visitor_open(channel=channel)
    return session.visitor, session.token


def start(channel: ChannelAccount) -> Conversation:
    visitor, _token = new_visitor(channel)
    return conversation_start(visitor=visitor)
