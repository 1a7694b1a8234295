import pytest
from django.test import Client
from django.urls import reverse

from agents.models import User

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_lands_on_the_first_section_of_the_role(people):
    client = Client()
    response = _login(client, "agent_u", "pw-for-tests-1")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"] == reverse("workbench:index")

    staff = Client()
    _login(staff, "biz_u", "pw-for-tests-1")
    assert staff.get(reverse("home"))["Location"] == reverse("tickets:list")


def test_wrong_password_shows_an_error_and_no_session(people):
    client = Client()
    response = _login(client, "agent_u", "wrong")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_even_with_the_right_password(people, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "agent_u", "wrong")
    response = _login(client, "agent_u", "pw-for-tests-1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked (username + IP lockout).
    assert _login(Client(), "super_u", "pw-for-tests-1").status_code == 302


def test_logout_needs_post_and_ends_the_session(client_for):
    client = client_for("agent")
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("workbench:index")).status_code == 302


def test_password_change(people):
    client = Client()
    client.force_login(people["agent"])
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-for-tests-1",
            "new_password1": "a-much-better-pass-42",
            "new_password2": "a-much-better-pass-42",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=people["agent"].pk).check_password("a-much-better-pass-42")


def test_csrf_is_enforced_on_login(people):
    client = Client(enforce_csrf_checks=True)
    assert _login(client, "agent_u", "pw-for-tests-1").status_code == 403


def test_preferences_language_switches_the_interface(client_for, people):
    client = client_for("agent")
    response = client.post(
        reverse("agents:preferences"),
        {"display_name": "Wei", "email": "wei@example.com", "language": "zh-hans"},
    )
    assert response.status_code == 302
    user = User.objects.get(pk=people["agent"].pk)
    assert (user.display_name, user.language) == ("Wei", "zh-hans")
    page = client.get(reverse("workbench:index"))
    assert "工作台" in page.content.decode()


def test_preferences_rejects_unknown_language_and_keeps_data(client_for, people):
    client = client_for("agent")
    response = client.post(
        reverse("agents:preferences"), {"display_name": "X", "email": "", "language": "klingon"}
    )
    assert response.status_code == 200
    user = User.objects.get(pk=people["agent"].pk)
    assert user.language == "" and user.display_name != "X"


def test_browser_language_is_used_when_the_user_has_none(client_for):
    client = client_for("agent")
    page = client.get(reverse("workbench:index"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert "工作台" in page.content.decode()
    page = client.get(reverse("workbench:index"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert "Workbench" in page.content.decode()
