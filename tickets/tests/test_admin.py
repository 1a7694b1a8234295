"""Admins configure calendars, group settings, ticket types and SLA policies in Django admin."""

import pytest
from django.urls import reverse

from agents.tests.factories import SkillGroupFactory
from settings_app.models import BusinessCalendar
from tickets.services.lifecycle import ticket_create

pytestmark = pytest.mark.django_db

MODELS = [
    ("settings_app", "businesscalendar"),
    ("settings_app", "groupsettings"),
    ("tickets", "tickettype"),
    ("tickets", "ticketcategory"),
    ("tickets", "slapolicy"),
    ("tickets", "slaevent"),
    ("tickets", "ticketattachment"),
    ("tickets", "savedview"),
]


@pytest.mark.parametrize(("app", "model"), MODELS)
def test_admin_pages_open(client_for, app, model, ticket_type):
    ticket_create(
        ticket_type=ticket_type, title="x", submitter=None, answers={"order_no": "AB1234"}
    )
    client = client_for("admin")
    assert client.get(reverse(f"admin:{app}_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{app}_{model}_add")).status_code == 200


def test_tickets_are_not_added_in_admin(client_for):
    client = client_for("admin")
    assert client.get(reverse("admin:tickets_ticket_changelist")).status_code == 200
    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 403


def test_admin_creates_a_calendar_with_lunch_break_and_a_holiday(client_for):
    data = {
        "name": "Shanghai office",
        "time_zone": "Asia/Shanghai",
        "follow_china_holidays": "on",
        "adjusted_day_hours_from": "0",
        "description": "",
        "intervals-TOTAL_FORMS": "2",
        "intervals-INITIAL_FORMS": "0",
        "intervals-0-weekday": "0",
        "intervals-0-start": "09:00",
        "intervals-0-end": "12:00",
        "intervals-1-weekday": "0",
        "intervals-1-start": "13:30",
        "intervals-1-end": "18:00",
        "exceptions-TOTAL_FORMS": "1",
        "exceptions-INITIAL_FORMS": "0",
        "exceptions-0-date": "2025-11-04",
        "exceptions-0-kind": "holiday",
        "exceptions-0-note": "Company outing",
    }
    response = client_for("admin").post(reverse("admin:settings_app_businesscalendar_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    cal = BusinessCalendar.objects.get()
    assert cal.intervals.count() == 2 and cal.exceptions.count() == 1


def test_non_admins_cannot_configure(client_for):
    SkillGroupFactory.create()
    for who in ("agent", "supervisor", "merchant_a", "business"):
        response = client_for(who).get(reverse("admin:tickets_slapolicy_changelist"))
        assert response.status_code == 302  # to the admin login
