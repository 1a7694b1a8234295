import pytest
from django.urls import reverse

from agents.models import AgentProfile
from tests.permissions import assert_matrix

pytestmark = pytest.mark.django_db


def test_agent_goes_online_from_the_top_bar(client_for, people):
    client = client_for("agent")
    response = client.post(reverse("agents:set_state"), {"state": "online", "next": "/tickets/"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert AgentProfile.objects.get(user=people["agent"]).state == "online"


def test_bad_state_and_foreign_redirect_are_refused(client_for, people):
    client = client_for("agent")
    response = client.post(
        reverse("agents:set_state"), {"state": "asleep", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert AgentProfile.objects.get(user=people["agent"]).state == "offline"


def test_set_state_matrix(client_for):
    assert_matrix(
        client_for,
        reverse("agents:set_state"),
        {
            "anonymous": 302,
            "admin": 302,
            "supervisor": 302,
            "agent": 302,
            "merchant_a": 302,
            "merchant_b": 302,
            "business": 403,
        },
        method="post",
        data={"state": "away"},
    )
