"""The one check point for actions, as agents.access is for reads.

A role carries capabilities (agents.roles.ROLE_CAPABILITIES). `may(user, action)` asks
whether the user's role carries one; `may(user, action, obj)` asks an object rule, which
the app that owns the object registers in its `permissions.py` with `@object_rule`. Services
ask before they change anything, so a view, a consumer, the API or a bot cannot skip the
check; selectors and templates ask the same predicate to decide what to show.

Rights are read from the user as the database has them now: an inactive user, or one whose
role was taken away, may nothing (`user_role` answers None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, Q

from agents.access import user_role
from agents.roles import ALL_CAPABILITIES, ROLE_CAPABILITIES, roles_with

Rule = Callable[[Any, Any], bool]
_RULES: dict[tuple[str, type[Model]], Rule] = {}


def has_capability(user: Any, capability: str) -> bool:
    if capability not in ALL_CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    role = user_role(user)
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())


def object_rule(action: str, model: type[Model]) -> Callable[[Rule], Rule]:
    """Register `rule(user, obj) -> bool` as the answer to may(user, action, <model>)."""

    def register(rule: Rule) -> Rule:
        key = (action, model)
        if key in _RULES and _RULES[key] is not rule:
            raise RuntimeError(f"two rules for {action!r} on {model.__name__}")
        _RULES[key] = rule
        return rule

    return register


def may(user: Any, action: str, obj: Any = None) -> bool:
    """May `user` do `action` (to `obj`)? The one predicate for every action check."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if obj is None:
        return has_capability(user, action)
    rule = _RULES.get((action, type(obj)))
    if rule is None:
        # A missing rule is a programming error, never a silent yes or no.
        raise LookupError(f"no rule for {action!r} on {type(obj).__name__}")
    return bool(rule(user, obj))


def with_capability_q(capability: str, *, prefix: str = "") -> Q:
    """The condition on User (or a model reaching it through `prefix`) for users whose role
    carries `capability`, for querysets such as "everyone who holds a seat"."""
    return Q(**{f"{prefix}groups__name__in": sorted(roles_with(capability))})
