"""canned_replies_for: personal + own groups + shared, merchant isolation, search, usage order."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404

from agents.tests.factories import GroupMembershipFactory, SkillGroupFactory
from knowledge.models import CannedReply
from knowledge.selectors import canned_replies_for, canned_reply_get_for
from knowledge.services import canned_reply_used
from knowledge.tests.factories import CannedReplyFactory

pytestmark = pytest.mark.django_db
Scope = CannedReply.Scope


@pytest.fixture
def replies(people, shop_a, shop_b):
    presales = SkillGroupFactory.create(name="Pre-sales")
    complaints = SkillGroupFactory.create(name="Complaints")
    team_a = SkillGroupFactory.create(name="A team", shop=shop_a)
    team_b = SkillGroupFactory.create(name="B team", shop=shop_b)
    GroupMembershipFactory.create(group=presales, user=people["agent"])
    GroupMembershipFactory.create(group=team_a, user=people["merchant_a"])
    GroupMembershipFactory.create(group=team_b, user=people["merchant_b"])
    make = CannedReplyFactory.create
    return {
        "agent_own": make(title="My sign-off", scope=Scope.PERSONAL, owner=people["agent"]),
        "supervisor_own": make(title="Boss", scope=Scope.PERSONAL, owner=people["supervisor"]),
        "presales": make(title="Price match", scope=Scope.GROUP, group=presales),
        "complaints": make(title="Apology", scope=Scope.GROUP, group=complaints),
        "platform": make(title="Greeting", shortcut="/hi", scope=Scope.SHARED),
        "team_a": make(title="A returns", scope=Scope.GROUP, group=team_a, shop=shop_a),
        "shop_a": make(title="A shipping", scope=Scope.SHARED, shop=shop_a),
        "team_b": make(title="B returns", scope=Scope.GROUP, group=team_b, shop=shop_b),
        "shop_b": make(title="B shipping", scope=Scope.SHARED, shop=shop_b),
        "merchant_a_own": make(title="A mine", scope=Scope.PERSONAL, owner=people["merchant_a"]),
        "inactive": make(title="Old", scope=Scope.SHARED, is_active=False),
    }


def titles(user, query=""):
    return {r.title for r in canned_replies_for(user=user, query=query)}


def test_platform_agent_sees_own_personal_their_groups_and_platform_ones(people, replies):
    assert titles(people["agent"]) == {"My sign-off", "Price match", "Greeting"}


def test_merchant_agent_sees_only_their_shop(people, replies):
    assert titles(people["merchant_a"]) == {"A returns", "A shipping", "A mine"}
    assert titles(people["merchant_b"]) == {"B returns", "B shipping"}


def test_merchant_cannot_fetch_another_shops_reply_by_id(people, replies):
    with pytest.raises(Http404):
        canned_reply_get_for(user=people["merchant_a"], pk=replies["team_b"].pk)
    with pytest.raises(Http404):
        canned_reply_get_for(user=people["merchant_a"], pk=replies["platform"].pk)
    with pytest.raises(Http404):
        canned_reply_get_for(user=people["agent"], pk=replies["supervisor_own"].pk)


def test_slash_prefix_matches_shortcuts(people):
    CannedReplyFactory.create(title="Refund steps", shortcut="/refund", scope=Scope.SHARED)
    CannedReplyFactory.create(title="Reference no", shortcut="/refno", scope=Scope.SHARED)
    CannedReplyFactory.create(title="Prefer ref", shortcut="/xref", scope=Scope.SHARED)
    assert titles(people["agent"], "/ref") == {"Refund steps", "Reference no"}
    assert titles(people["agent"], "/refu") == {"Refund steps"}


def test_plain_query_searches_title_text_and_shortcut(people):
    CannedReplyFactory.create(
        title="退款说明", text="退款将在3个工作日内原路退回。", scope="shared"
    )
    CannedReplyFactory.create(title="Delivery", text="Your parcel ships today.", scope="shared")
    assert titles(people["agent"], "原路") == {"退款说明"}
    assert titles(people["agent"], "PARCEL") == {"Delivery"}


def test_most_used_come_first(people):
    rare = CannedReplyFactory.create(title="A rare", scope=Scope.SHARED)
    CannedReplyFactory.create(title="B common", scope=Scope.SHARED, usage_count=5)
    for _ in range(7):
        canned_reply_used(reply=rare, user=people["agent"])
    assert [r.title for r in canned_replies_for(user=people["agent"])] == ["A rare", "B common"]
    rare.refresh_from_db()
    assert rare.usage_count == 7


def test_scope_rules_are_enforced(people, shop_a):
    group = SkillGroupFactory.create(shop=shop_a)
    with pytest.raises(ValidationError):
        CannedReply(title="x", text="x", scope=Scope.PERSONAL).full_clean()
    reply = CannedReply(title="x", text="x", scope=Scope.GROUP, group=group)
    reply.full_clean()
    assert reply.shop_id == shop_a.pk  # a group reply takes its group's shop
    with pytest.raises(ValidationError):
        CannedReply(title="x", text="x", scope=Scope.SHARED, shortcut="refund").full_clean()
    with pytest.raises(IntegrityError):
        CannedReply.objects.create(title="x", text="x", scope=Scope.SHARED, owner=people["agent"])
