"""Reads of people and seats, scoped by agents.access."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from agents.access import get_for, restrict, role_from_group_names
from agents.models import AgentProfile, GroupMembership, Shop, SkillGroup, User
from agents.roles import Role


def user_list_for(*, user: Any) -> QuerySet[User]:
    """Back-office users the viewer may see, with what list pages show, in a fixed number
    of queries."""
    return (
        restrict(User.objects.filter(is_active=True), user=user)
        .filter(groups__name__in=Role.values)
        .select_related("agent_profile")
        .prefetch_related(
            "groups",
            "shops",
            Prefetch(
                "group_memberships",
                queryset=GroupMembership.objects.select_related("group"),
            ),
        )
        .order_by("username")
        .distinct()
    )


def user_get_for(*, user: Any, pk: int) -> User:
    return get_for(user_list_for(user=user), user=user, pk=pk)


def shop_list_for(*, user: Any) -> QuerySet[Shop]:
    return restrict(Shop.objects.filter(is_active=True), user=user)


def skill_group_list_for(*, user: Any) -> QuerySet[SkillGroup]:
    return restrict(SkillGroup.objects.filter(is_active=True).select_related("shop"), user=user)


def role_of(user: User) -> str | None:
    """The role from prefetched groups (no query when `groups` is prefetched)."""
    return role_from_group_names({g.name for g in user.groups.all()})


def seat_for(*, user: User) -> AgentProfile:
    """The user's seat; an unsaved offline one if none was created yet (e.g. superusers)."""
    profile = AgentProfile.objects.filter(user=user).first()
    return profile or AgentProfile(user=user)


def is_group_member(user: Any, group_id: int) -> bool:
    """Is the user in the skill group (as a member or a lead)?"""
    if user is None or user.pk is None:
        return False
    return GroupMembership.objects.filter(group_id=group_id, user_id=user.pk).exists()


def is_group_lead(user: Any, group_id: int) -> bool:
    """Does the user lead the skill group (receives its escalations, assigns its work)?"""
    if user is None or user.pk is None:
        return False
    return GroupMembership.objects.filter(
        group_id=group_id, user_id=user.pk, role=GroupMembership.Role.LEAD
    ).exists()


def group_leads(group_id: int) -> QuerySet[User]:
    """The active leads of a skill group."""
    return User.objects.filter(
        group_memberships__group_id=group_id,
        group_memberships__role=GroupMembership.Role.LEAD,
        is_active=True,
    )
