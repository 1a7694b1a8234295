import pytest
from django.http import Http404

from agents.access import get_for, restrict, scope_for
from agents.models import Shop, SkillGroup, User
from agents.roles import Role
from agents.tests.factories import SkillGroupFactory, UserFactory
from commerce.models import Customer, Order
from commerce.tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_platform_roles_see_every_shop(people):
    for who in ("admin", "supervisor", "agent", "business"):
        scope = scope_for(people[who])
        assert scope.all_shops, who


def test_merchant_agent_sees_only_own_shops(people, shop_a, shop_b):
    scope = scope_for(people["merchant_a"])
    assert not scope.all_shops
    assert scope.shop_ids == frozenset({shop_a.pk})
    assert list(restrict(Shop.objects.all(), user=people["merchant_a"])) == [shop_a]


def test_user_without_role_sees_nothing(db, shop_a):
    nobody = User.objects.create_user("nobody", password="x")
    assert scope_for(nobody).is_empty
    assert not restrict(Shop.objects.all(), user=nobody).exists()


def test_inactive_shop_membership_gives_no_access(people, shop_a):
    shop_a.is_active = False
    shop_a.save()
    merchant = User.objects.get(pk=people["merchant_a"].pk)
    assert scope_for(merchant).is_empty


def test_orders_and_customers_are_scoped_by_shop(people, shop_a, shop_b):
    mine = OrderFactory.create(shop=shop_a)
    theirs = OrderFactory.create(shop=shop_b)
    shared_customer = CustomerFactory.create()
    OrderFactory.create(shop=shop_a, customer=shared_customer)
    OrderFactory.create(shop=shop_b, customer=shared_customer)
    merchant = people["merchant_a"]

    orders = set(restrict(Order.objects.all(), user=merchant))
    assert mine in orders and theirs not in orders
    customers = list(restrict(Customer.objects.all(), user=merchant))
    assert theirs.customer not in customers
    # A customer of both shops appears once (no join duplicates).
    assert customers.count(shared_customer) == 1
    assert restrict(Order.objects.all(), user=people["agent"]).count() == 4


def test_get_for_answers_404_outside_scope(people, shop_b):
    theirs = OrderFactory.create(shop=shop_b)
    with pytest.raises(Http404):
        get_for(Order.objects.all(), user=people["merchant_a"], pk=theirs.pk)
    assert get_for(Order.objects.all(), user=people["merchant_b"], pk=theirs.pk) == theirs


def test_models_without_shop_scope_are_platform_only(people):
    # auth.Group has no shop_scope_q: merchants see none of its rows, platform roles all.
    from django.contrib.auth.models import Group

    assert not restrict(Group.objects.all(), user=people["merchant_a"]).exists()
    assert restrict(Group.objects.all(), user=people["agent"]).count() == Group.objects.count()


def test_skill_groups_scoped_to_shop(people, shop_a, shop_b):
    platform = SkillGroupFactory.create(name="Platform")
    a = SkillGroupFactory.create(name="A team", shop=shop_a)
    b = SkillGroupFactory.create(name="B team", shop=shop_b)
    visible = set(restrict(SkillGroup.objects.all(), user=people["merchant_a"]))
    assert visible == {a}
    assert {platform, a, b} <= set(restrict(SkillGroup.objects.all(), user=people["agent"]))


def test_colleagues_scoped_to_shop(people, shop_a):
    colleague = UserFactory.create(role=Role.MERCHANT_AGENT, shops=[shop_a])
    visible = set(restrict(User.objects.all(), user=people["merchant_a"]))
    assert visible == {people["merchant_a"], colleague}


def test_two_role_groups_resolve_to_the_narrower(people, shop_a):
    from django.contrib.auth.models import Group

    merchant = people["merchant_a"]
    merchant.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    merchant = User.objects.get(pk=merchant.pk)
    assert scope_for(merchant).role == Role.MERCHANT_AGENT
    assert not scope_for(merchant).all_shops
