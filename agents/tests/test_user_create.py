import pytest
from django.core.exceptions import ValidationError

from agents.access import user_role
from agents.models import AgentProfile, User
from agents.roles import Role
from agents.services import user_create, user_set_role

pytestmark = pytest.mark.django_db


def test_creates_user_with_role_seat_and_shops(shop_a):
    user = user_create(
        username="mia", password="s3cret-pass!", role=Role.MERCHANT_AGENT, shops=[shop_a]
    )
    user = User.objects.get(pk=user.pk)
    assert user_role(user) == Role.MERCHANT_AGENT
    assert list(user.shops.all()) == [shop_a]
    assert AgentProfile.objects.get(user=user).state == AgentProfile.State.OFFLINE
    assert user.check_password("s3cret-pass!")
    assert not user.is_staff


def test_merchant_agent_without_shop_is_refused():
    with pytest.raises(ValidationError):
        user_create(username="lost", password="x", role=Role.MERCHANT_AGENT)
    assert not User.objects.filter(username="lost").exists()


def test_admin_role_opens_django_admin_and_losing_it_closes(db):
    user = user_create(username="boss", password="x", role=Role.ADMIN)
    assert user.is_staff
    user_set_role(user=user, role=Role.AGENT)
    user.refresh_from_db()
    assert not user.is_staff
    assert user_role(User.objects.get(pk=user.pk)) == Role.AGENT


def test_set_role_replaces_the_previous_role(people):
    agent = people["agent"]
    user_set_role(user=agent, role=Role.SUPERVISOR)
    names = set(agent.groups.values_list("name", flat=True))
    assert names == {Role.SUPERVISOR.value}
