import pytest
from django.contrib.auth.models import Group

from agents.roles import ROLE_CAPABILITIES, Role

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_with_its_capabilities():
    for role in Role:
        group = Group.objects.get(name=role.value)
        codenames = set(
            group.permissions.filter(content_type__model="capability").values_list(
                "codename", flat=True
            )
        )
        assert codenames == ROLE_CAPABILITIES[role], role


def test_admin_role_can_configure_models_of_later_apps():
    admin = Group.objects.get(name=Role.ADMIN)
    perms = set(admin.permissions.values_list("content_type__app_label", "codename"))
    assert ("agents", "change_skillgroup") in perms
    assert ("commerce", "change_order") in perms
    # Other roles never get model permissions (they work through the app, not admin).
    agent = Group.objects.get(name=Role.AGENT)
    assert not agent.permissions.exclude(content_type__model="capability").exists()


def test_merchant_agents_get_no_monitoring_or_agents(people):
    merchant = people["merchant_a"]
    assert merchant.has_perm("agents.use_workbench")
    assert not merchant.has_perm("agents.view_monitoring")
    assert not merchant.has_perm("agents.view_agents")
    assert not merchant.is_staff
