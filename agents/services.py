"""Writes for people, shops, groups and seats."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentProfile, GroupMembership, Shop, SkillGroup, User
from agents.roles import Role
from agents.signals import seat_came_online
from agents.sockets import access_group
from core.realtime import broadcast_on_commit

SEAT_BOARD_GROUP = "seats.all"


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: Role | str,
    display_name: str = "",
    email: str = "",
    shops: Iterable[Shop] = (),
    skill_groups: Iterable[SkillGroup] = (),
    max_concurrent: int = 5,
    language: str = "",
) -> User:
    """Create a back-office user with their role, shops, groups and seat in one step."""
    role = Role(role)
    shops = list(shops)
    if role == Role.MERCHANT_AGENT and not shops:
        raise ValidationError(_("A merchant agent must belong to at least one shop."))
    user = User(
        username=username,
        email=email,
        display_name=display_name,
        language=language,
        is_staff=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user_set_role(user=user, role=role)
    if shops:
        user.shops.set(shops)
    for group in skill_groups:
        membership = GroupMembership(group=group, user=user)
        membership.full_clean(validate_unique=False)
        GroupMembership.objects.get_or_create(group=group, user=user)
    AgentProfile.objects.create(user=user, max_concurrent=max_concurrent)
    return user


@transaction.atomic
def user_set_role(*, user: User, role: Role | str | None) -> None:
    """Replace the user's role group (None: no role, so no access); admins get access to
    Django admin, others lose it. The one path for a role change: the admin's user form
    calls it too."""
    role = Role(role) if role else None
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    is_staff = role == Role.ADMIN or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    for attr in ("_kefu_role", "_kefu_scope"):
        user.__dict__.pop(attr, None)
    user_access_changed(user_id=user.pk)


def user_access_changed(*, user_id: int, signed_out_session: str | None = None) -> None:
    """Ring the user's open sockets after commit: they re-check their rights and close if
    these are gone. `signed_out_session`: the session that signed out ("*": all of them),
    whose sockets close without asking."""
    event: dict[str, object] = {"type": "access.revoked"}
    if signed_out_session is not None:
        event["signed_out_session"] = signed_out_session
    broadcast_on_commit(access_group(user_id), event)


@transaction.atomic
def user_set_active(*, user: User, is_active: bool) -> None:
    """Activate or deactivate a back-office user; a deactivated user's sockets close."""
    if user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
    if not is_active:
        user_access_changed(user_id=user.pk, signed_out_session="*")


@transaction.atomic
def user_set_shops(*, user: User, shops: Iterable[Shop]) -> None:
    """The shops a merchant-scoped user serves; open sockets re-check their scope."""
    user.shops.set(list(shops))
    user.__dict__.pop("_kefu_scope", None)
    user_access_changed(user_id=user.pk)


def user_update_preferences(*, user: User, display_name: str, email: str, language: str) -> None:
    """What every user may change about themselves: name shown, email, language."""
    valid = {"", *(code for code, _name in settings.LANGUAGES)}
    if language not in valid:
        raise ValidationError({"language": _("Unknown language.")})
    user.display_name = display_name
    user.email = email
    user.language = language
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=["display_name", "email", "language"])


@transaction.atomic
def agent_set_state(*, user: User, state: AgentProfile.State | str) -> AgentProfile:
    """Put a seat online, away or offline, and ring the seat board's doorbell."""
    if state not in AgentProfile.State.values:
        raise ValidationError(_("Unknown state."))
    profile, _created = AgentProfile.objects.select_for_update().get_or_create(user=user)
    if profile.state != state:
        profile.state = state
        profile.state_changed_at = timezone.now()
        profile.save(update_fields=["state", "state_changed_at"])
        event = {"type": "seat.changed", "user_id": user.pk, "state": profile.state}
        broadcast_on_commit(SEAT_BOARD_GROUP, event)
        if profile.state == AgentProfile.State.ONLINE:
            # A seat coming online may take waiting conversations: routing (a room above
            # this one) drains the queues of the agent's groups once this is committed.
            user_id = user.pk
            transaction.on_commit(
                lambda: seat_came_online.send(sender=AgentProfile, user_id=user_id)
            )
    return profile
