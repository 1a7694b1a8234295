"""Django admin changes roles and seat states only through the services that own them."""

from datetime import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentProfile, User
from agents.roles import Role
from agents.selectors import role_of
from workbench.tests.helpers import make_channel, online_agent, start

pytestmark = pytest.mark.django_db


def _change_form_data(client, user):
    """The admin's own change form for `user`, as the browser would post it back."""
    response = client.get(reverse("admin:agents_user_change", args=[user.pk]))
    form = response.context["adminform"].form
    data: dict[str, object] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = str(local.date()), local.strftime("%H:%M:%S")
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None and not isinstance(value, bool):
                    data[f"{inline_form.prefix}-{name}"] = str(value)
    data.pop("password", None)
    return data


def test_role_set_in_the_user_form_goes_through_the_role_service(client_for, people):
    admin = client_for("admin")
    agent = people["agent"]
    data = _change_form_data(admin, agent)
    assert data["role"] == Role.AGENT
    data["role"] = Role.ADMIN
    response = admin.post(reverse("admin:agents_user_change", args=[agent.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    agent = User.objects.get(pk=agent.pk)
    assert role_of(agent) == Role.ADMIN
    # What user_set_role keeps in step with the role: access to Django admin.
    assert agent.is_staff
    assert list(agent.groups.values_list("name", flat=True)) == [Role.ADMIN]

    data = _change_form_data(admin, agent)
    data["role"] = ""
    admin.post(reverse("admin:agents_user_change", args=[agent.pk]), data)
    agent = User.objects.get(pk=agent.pk)
    assert role_of(agent) is None and not agent.is_staff


def test_merchant_role_without_a_shop_is_refused_with_a_clear_error(client_for, people):
    admin = client_for("admin")
    agent = people["agent"]
    data = _change_form_data(admin, agent)
    data["role"] = Role.MERCHANT_AGENT
    data.pop("shops", None)
    response = admin.post(reverse("admin:agents_user_change", args=[agent.pk]), data)
    assert response.status_code == 200
    assert "A merchant agent must belong to at least one shop." in response.content.decode()
    assert role_of(User.objects.get(pk=agent.pk)) == Role.AGENT


def test_role_groups_cannot_be_edited_beside_the_role(client_for, people):
    admin = client_for("admin")
    agent = people["agent"]
    data = _change_form_data(admin, agent)
    assert "groups" not in data
    data["groups"] = [str(Group.objects.get(name=Role.SUPERVISOR).pk)]
    admin.post(reverse("admin:agents_user_change", args=[agent.pk]), data)
    assert role_of(User.objects.get(pk=agent.pk)) == Role.AGENT


def test_seat_state_is_read_only_in_the_seat_forms(client_for, people):
    admin = client_for("admin")
    profile = AgentProfile.objects.get(user=people["agent"])
    before = (profile.state, profile.state_changed_at)
    data = _change_form_data(admin, people["agent"])
    prefix = next(k for k in data if k.endswith("-max_concurrent")).rsplit("-", 1)[0]
    data[f"{prefix}-state"] = "online" if profile.state != "online" else "away"
    admin.post(reverse("admin:agents_user_change", args=[people["agent"].pk]), data)
    profile.refresh_from_db()
    assert (profile.state, profile.state_changed_at) == before
    change = admin.get(reverse("admin:agents_agentprofile_change", args=[profile.pk]))
    assert 'name="state"' not in change.content.decode()


def test_seat_list_action_goes_through_the_seat_service_and_drains_the_queue(
    client_for, django_capture_on_commit_callbacks
):
    channel = make_channel()
    agent = online_agent(channel.default_group, capacity=2)
    AgentProfile.objects.filter(user=agent).update(state="offline")
    waiting = start(channel)
    assert waiting.status == "queued"
    profile = AgentProfile.objects.get(user=agent)
    admin = client_for("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("admin:agents_agentprofile_changelist"),
            {"action": "set_online", "_selected_action": [profile.pk]},
        )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.state == "online"
    waiting.refresh_from_db()
    # The service's cascade ran: the seat took the waiting conversation.
    assert (waiting.status, waiting.agent_id) == ("active", agent.pk)
