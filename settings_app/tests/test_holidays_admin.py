"""The holiday list in Django admin: upload a file end to end, edit days, the banner."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from settings_app import selectors
from settings_app.models import BusinessCalendar, PublicHolidayDay, PublicHolidayYear
from tests.permissions import assert_matrix

pytestmark = pytest.mark.django_db

IMPORT = "admin:settings_app_publicholidayyear_import"
CHANGELIST = "admin:settings_app_publicholidayyear_changelist"
BANNER = "No public holiday list for 2027"
FILE = "date,kind,name\n2027-02-05,holiday,春节\n2027-02-13,workday,春节\n".encode()

ADMIN_ONLY = {
    "anonymous": 302,
    "admin": 200,
    "supervisor": 302,
    "agent": 302,
    "merchant_a": 302,
    "merchant_b": 302,
    "business": 302,
}


@pytest.fixture
def december_2026(monkeypatch):
    """Today is 2026-12-01 and the installed chinese-calendar knows up to 2026, whatever
    the real date and package are."""
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 1, 4, tzinfo=UTC))
    monkeypatch.setattr(selectors, "library_knows_year", lambda year: year <= 2026)


@pytest.fixture
def china_calendar(db):
    return BusinessCalendar.objects.create(name="CN office", follow_china_holidays=True)


def upload(client, content: bytes = FILE, **data):
    return client.post(
        reverse(IMPORT),
        {"file": SimpleUploadedFile("cn-2027.csv", content, "text/csv"), **data},
    )


@pytest.mark.parametrize("name", [IMPORT, CHANGELIST, "admin:settings_app_publicholidayyear_add"])
def test_holiday_admin_pages_are_for_admins_only(client_for, name):
    assert_matrix(client_for, reverse(name), ADMIN_ONLY)


def test_upload_imports_the_file_through_the_service(client_for):
    response = upload(client_for("admin"), year="2027")
    assert response.status_code == 302 and response["Location"] == reverse(CHANGELIST)
    year = PublicHolidayYear.objects.get(year=2027)
    assert year.source == "cn-2027.csv"
    assert list(year.days.values_list("kind", flat=True)) == ["holiday", "workday"]
    page = client_for("admin").get(reverse(CHANGELIST))
    assert reverse(IMPORT) in page.content.decode()  # the changelist links to the upload


def test_upload_with_a_bad_line_shows_it_and_writes_nothing(client_for):
    response = upload(client_for("admin"), FILE + "2027-02-05,holiday,春节\n".encode())
    assert response.status_code == 200
    assert "Line 4: 2027-02-05 is already listed on line 2." in response.content.decode()
    assert not PublicHolidayYear.objects.exists()


def test_upload_again_needs_replace(client_for):
    admin = client_for("admin")
    upload(admin)
    again = upload(admin, b"2027-10-01,holiday,\xe5\x9b\xbd\xe5\xba\x86\n")
    assert "2027 already has an imported list" in again.content.decode()
    assert PublicHolidayDay.objects.count() == 2
    assert upload(admin, b"2027-10-01,holiday,x\n", replace="on").status_code == 302
    assert PublicHolidayDay.objects.get().name == "x"


def test_days_are_edited_inline_and_checked_against_the_year(client_for):
    year = PublicHolidayYear.objects.create(year=2027)
    url = reverse("admin:settings_app_publicholidayyear_change", args=[year.pk])
    form = {
        "source": "hand",
        "days-TOTAL_FORMS": "1",
        "days-INITIAL_FORMS": "0",
        "days-0-date": "2028-01-01",
        "days-0-kind": "holiday",
        "days-0-name": "元旦",
    }
    response = client_for("admin").post(url, form)
    assert response.status_code == 200  # shown again with the error
    assert "The date must be in 2027." in response.content.decode()
    form["days-0-date"] = "2027-01-01"
    assert client_for("admin").post(url, form).status_code == 302
    assert PublicHolidayDay.objects.get().name == "元旦"


def test_banner_shows_while_2027_is_missing_and_goes_after_import(
    client_for, december_2026, china_calendar
):
    admin = client_for("admin")
    assert BANNER in admin.get(reverse("admin:index")).content.decode()
    assert BANNER in admin.get(reverse("settings_app:index")).content.decode()
    upload(admin)
    assert BANNER not in admin.get(reverse("admin:index")).content.decode()
    assert BANNER not in admin.get(reverse("settings_app:index")).content.decode()


def test_no_banner_without_a_calendar_that_follows_china(client_for, december_2026):
    BusinessCalendar.objects.create(name="Berlin", follow_china_holidays=False)
    assert BANNER not in client_for("admin").get(reverse("admin:index")).content.decode()


def test_no_banner_on_the_login_page(client, december_2026, china_calendar):
    assert BANNER not in client.get(reverse("admin:login")).content.decode()


def test_next_year_is_missing_only_within_60_days_of_its_start(monkeypatch, china_calendar):
    monkeypatch.setattr(selectors, "library_knows_year", lambda year: year <= 2026)
    assert selectors.holiday_years_missing(today=datetime(2026, 10, 31).date()) == []
    assert selectors.holiday_years_missing(today=datetime(2026, 11, 2).date()) == [2027]
    assert selectors.holiday_years_missing(today=datetime(2027, 3, 1).date()) == [2027]
    PublicHolidayYear.objects.create(year=2027)
    assert selectors.holiday_years_missing(today=datetime(2027, 12, 1).date()) == [2028]
