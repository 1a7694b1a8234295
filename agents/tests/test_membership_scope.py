"""A skill group's members must see its shop: otherwise its work reaches someone who gets a
404 for it (issue 11, item 4)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agents.models import GroupMembership
from agents.roles import Role
from agents.services import user_create
from agents.tests.factories import GroupMembershipFactory, SkillGroupFactory
from agents.tests.test_admin_one_path import _change_form_data

pytestmark = pytest.mark.django_db


def _group_inline_post(client, group, user):
    url = reverse("admin:agents_skillgroup_change", args=[group.pk])
    data = {
        "name": group.name,
        "shop": group.shop_id or "",
        "description": "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-user": str(user.pk),
        "memberships-0-role": "member",
        "memberships-0-group": str(group.pk),
        "memberships-0-joined_at_0": "2026-12-01",
        "memberships-0-joined_at_1": "09:00:00",
    }
    return client.post(url, data)


def test_merchant_agent_cannot_join_a_platform_group_in_admin(client_for, people):
    platform = SkillGroupFactory.create(name="After-sales", shop=None)
    response = _group_inline_post(client_for("admin"), platform, people["merchant_a"])
    assert response.status_code == 200
    assert "cannot be in the platform group" in response.content.decode()
    assert not GroupMembership.objects.filter(group=platform).exists()


def test_merchant_agent_cannot_join_another_shops_group(client_for, people, shop_b):
    theirs = SkillGroupFactory.create(name="B service", shop=shop_b)
    response = _group_inline_post(client_for("admin"), theirs, people["merchant_a"])
    assert response.status_code == 200
    assert "does not belong to the shop of the group" in response.content.decode()
    assert not GroupMembership.objects.filter(group=theirs).exists()


def test_merchant_joins_their_own_shops_group_and_platform_agents_join_any(
    client_for, people, shop_a
):
    mine = SkillGroupFactory.create(name="A service", shop=shop_a)
    assert _group_inline_post(client_for("admin"), mine, people["merchant_a"]).status_code == 302
    assert _group_inline_post(client_for("admin"), mine, people["agent"]).status_code == 302
    assert GroupMembership.objects.filter(group=mine).count() == 2


def test_role_change_that_would_strand_group_work_is_refused(client_for, people, shop_a):
    agent = people["agent"]
    GroupMembershipFactory.create(user=agent, group=SkillGroupFactory.create(name="Pre-sales"))
    admin = client_for("admin")
    data = _change_form_data(admin, agent)
    data["role"] = Role.MERCHANT_AGENT
    data["shops"] = [str(shop_a.pk)]
    response = admin.post(reverse("admin:agents_user_change", args=[agent.pk]), data)
    assert response.status_code == 200
    assert "cannot be in the platform group Pre-sales" in response.content.decode()


def test_user_create_refuses_a_group_outside_the_users_shops(shop_a):
    platform = SkillGroupFactory.create(name="Complaints", shop=None)
    with pytest.raises(ValidationError):
        user_create(
            username="m2",
            password=None,
            role=Role.MERCHANT_AGENT,
            shops=[shop_a],
            skill_groups=[platform],
        )
