"""The one enforcement point for data access.

Every queryset a signed-in user sees is narrowed here, by role and shop; every object
lookup on a user's behalf goes through `get_for`, which answers 404 outside the user's
scope (never 403, so a merchant cannot even learn that another shop's object exists).

A model takes part by naming the path to its shop (``shop_scope_path = "order__shop"``)
or, where the rule is not a plain path, by defining ``shop_scope_q(shop_ids) -> Q``: the
condition that puts a row inside a set of shops. Models with neither are platform-only: a
shop-scoped user sees none of their rows.

Views, API viewsets, websocket consumers and selectors all call these functions; tests in
``tests/permissions.py`` check them through every URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from agents.roles import PLATFORM_ROLES, Role

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    """What a user may see: every shop, or only the listed ones."""

    role: str | None
    all_shops: bool
    shop_ids: frozenset[int]

    @property
    def is_empty(self) -> bool:
        return not self.all_shops and not self.shop_ids


NO_ACCESS = Scope(role=None, all_shops=False, shop_ids=frozenset())


# With several role groups (a misconfiguration the admin form prevents), the narrowest
# wins: a merchant agent never gains platform scope by accident.
ROLE_PRECEDENCE = (
    Role.MERCHANT_AGENT,
    Role.BUSINESS_STAFF,
    Role.AGENT,
    Role.SUPERVISOR,
    Role.ADMIN,
)


def role_from_group_names(names: set[str]) -> str | None:
    for candidate in ROLE_PRECEDENCE:
        if candidate.value in names:
            return candidate.value
    return None


def user_role(user: Any) -> str | None:
    """The user's role: the name of their role group (superusers count as admins)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, "_kefu_role", ...)
    if cached is not ...:
        return cached
    role = role_from_group_names(set(user.groups.values_list("name", flat=True)))
    if role is None and user.is_superuser:
        role = Role.ADMIN.value
    user._kefu_role = role
    return role


def scope_for(user: Any) -> Scope:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return NO_ACCESS
    cached = getattr(user, "_kefu_scope", None)
    if cached is not None:
        return cached
    role = user_role(user)
    if role is None:
        scope = NO_ACCESS
    elif role in PLATFORM_ROLES:
        scope = Scope(role=role, all_shops=True, shop_ids=frozenset())
    else:
        ids = frozenset(user.shops.filter(is_active=True).values_list("pk", flat=True))
        scope = Scope(role=role, all_shops=False, shop_ids=ids)
    user._kefu_scope = scope
    return scope


def restrict(queryset: QuerySet[M], *, user: Any) -> QuerySet[M]:
    """Narrow a queryset to the rows the user may see."""
    scope = scope_for(user)
    if scope.all_shops:
        return queryset
    if scope.is_empty:
        return queryset.none()
    return queryset.filter(shop_condition(queryset.model, scope.shop_ids))


def shop_condition(model: type[Model], shop_ids: frozenset[int]) -> Q:
    """The condition that puts a row of `model` inside `shop_ids` (no rows if it has none)."""
    scope_q = getattr(model, "shop_scope_q", None)
    if scope_q is not None:
        condition: Q = scope_q(shop_ids)
        return condition
    path = getattr(model, "shop_scope_path", None)
    if path is not None:
        return Q(**{f"{path}_id__in": shop_ids})
    return Q(pk__in=[])


def get_for(queryset: QuerySet[M], *, user: Any, **lookup: Any) -> M:
    """Fetch one object the user may see, or raise Http404."""
    try:
        return restrict(queryset, user=user).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_see_shop(user: Any, shop_id: int | None) -> bool:
    scope = scope_for(user)
    if scope.all_shops:
        return True
    return shop_id is not None and shop_id in scope.shop_ids


def membership_refusal(user: Any, group: Any) -> str:
    """Why `user`, as saved now, may not be a member of skill group `group` ("" if they may)."""
    scope = scope_for(user)
    return membership_refusal_for(
        user=user, all_shops=scope.all_shops, shop_ids=scope.shop_ids, group=group
    )


def membership_refusal_for(
    *, user: Any, all_shops: bool, shop_ids: frozenset[int], group: Any
) -> str:
    """The same question for a user about to be saved with this scope (the admin's user form
    checks a role or shop change against the groups the user is already in)."""
    from django.utils.translation import gettext as _

    if all_shops:
        return ""
    if group.shop_id is None:
        return _(
            "%(user)s serves only their own shops and cannot be in the platform group %(group)s."
        ) % {"user": user, "group": group.name}
    if group.shop_id not in shop_ids:
        return _("%(user)s does not belong to the shop of the group %(group)s.") % {
            "user": user,
            "group": group.name,
        }
    return ""
