"""agents.capabilities: one predicate for actions, read from the role as it is now."""

import pytest

from agents.capabilities import has_capability, may, object_rule, with_capability_q
from agents.models import Shop, User
from agents.roles import ROLE_CAPABILITIES, Role, roles_with
from agents.services import user_set_role

pytestmark = pytest.mark.django_db


def test_each_role_carries_exactly_its_capabilities(people):
    for key, role in [
        ("admin", Role.ADMIN),
        ("supervisor", Role.SUPERVISOR),
        ("agent", Role.AGENT),
        ("merchant_a", Role.MERCHANT_AGENT),
        ("business", Role.BUSINESS_STAFF),
    ]:
        user = people[key]
        granted = {c for c in ROLE_CAPABILITIES[Role.SUPERVISOR] | {"duty_off_seat"}
                   if has_capability(user, c)}  # fmt: skip
        assert granted == set(ROLE_CAPABILITIES[role]), key


def test_supervise_and_seats_follow_the_table(people):
    assert may(people["supervisor"], "supervise")
    assert not may(people["agent"], "supervise")
    assert may(people["merchant_a"], "hold_seat")
    assert not may(people["business"], "hold_seat")
    assert not may(people["admin"], "hold_seat")
    assert may(people["business"], "duty_off_seat")
    assert not may(people["business"], "browse_tickets")


def test_rights_end_with_the_role_and_with_the_account(people):
    supervisor = User.objects.get(pk=people["supervisor"].pk)
    assert may(supervisor, "supervise")
    user_set_role(user=supervisor, role=Role.AGENT)
    assert not may(User.objects.get(pk=supervisor.pk), "supervise")
    agent = User.objects.get(pk=people["agent"].pk)
    agent.is_active = False
    assert not may(agent, "hold_seat")
    assert not may(None, "hold_seat")


def test_unknown_capability_and_missing_rule_are_errors(people):
    with pytest.raises(ValueError):
        may(people["admin"], "fly")
    with pytest.raises(ValueError):
        roles_with("fly")
    with pytest.raises(LookupError):
        may(people["admin"], "supervise", Shop(name="x"))


def test_object_rules_answer_for_their_model(people):
    calls = []

    @object_rule("test_rename", Shop)
    def _rule(user, shop):
        calls.append(shop.pk)
        return shop.pk == 1

    assert may(people["admin"], "test_rename", Shop(pk=1))
    assert not may(people["admin"], "test_rename", Shop(pk=2))
    assert calls == [1, 2]
    with pytest.raises(RuntimeError):
        object_rule("test_rename", Shop)(lambda user, shop: True)


def test_with_capability_q_finds_the_seat_holders(people):
    holders = set(User.objects.filter(with_capability_q("hold_seat")).values_list("pk", flat=True))
    assert people["agent"].pk in holders and people["merchant_a"].pk in holders
    assert people["business"].pk not in holders and people["admin"].pk not in holders
