"""Admin for business calendars, the official holiday list and group settings."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from settings_app.forms import HolidayFileForm
from settings_app.holiday_files import decode_holiday_file
from settings_app.models import (
    BusinessCalendar,
    CalendarException,
    GroupSettings,
    PublicHolidayDay,
    PublicHolidayYear,
    WorkingInterval,
)
from settings_app.services import holidays_import_file

# --- Business calendars and group settings


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    extra = 0


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "follow_china_holidays"]
    search_fields = ["name"]
    inlines = [WorkingIntervalInline, CalendarExceptionInline]


@admin.register(GroupSettings)
class GroupSettingsAdmin(admin.ModelAdmin):
    list_display = ["group", "calendar", "reassign_after_minutes"]
    list_select_related = ["group", "calendar"]
    autocomplete_fields = ["group"]


# --- The official holiday list: a year's days are edited inline; a whole year comes from a
# file through the same service as `manage.py import_holidays`.


class PublicHolidayDayInline(admin.TabularInline):
    model = PublicHolidayDay
    extra = 0
    fields = ["date", "kind", "name"]


@admin.register(PublicHolidayYear)
class PublicHolidayYearAdmin(admin.ModelAdmin):
    list_display = ["year", "holiday_count", "workday_count", "source", "imported_at"]
    inlines = [PublicHolidayDayInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The year's days are checked against it; changing it would strand them.
        return ["year", "imported_at"] if obj else ["imported_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PublicHolidayYear]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_holidays=Count("days", filter=Q(days__kind=PublicHolidayDay.Kind.HOLIDAY)),
                n_workdays=Count("days", filter=Q(days__kind=PublicHolidayDay.Kind.WORKDAY)),
            )
        )

    @admin.display(description=_("holidays"), ordering="n_holidays")
    def holiday_count(self, obj: Any) -> int:
        return int(obj.n_holidays)

    @admin.display(description=_("adjusted working days"), ordering="n_workdays")
    def workday_count(self, obj: Any) -> int:
        return int(obj.n_workdays)

    def get_urls(self) -> list[URLPattern]:
        upload = path(
            "import/",
            self.admin_site.admin_view(self.import_view),
            name="settings_app_publicholidayyear_import",
        )
        return [upload, *super().get_urls()]

    def has_import_permission(self, request: HttpRequest) -> bool:
        # Importing creates years and days, and --replace deletes a year's days.
        return all(
            request.user.has_perm(f"settings_app.{action}_publicholidayday")
            for action in ("add", "delete")
        ) and request.user.has_perm("settings_app.add_publicholidayyear")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a holiday file: parse, call holidays_import_file, report."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = HolidayFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                years = holidays_import_file(
                    text=decode_holiday_file(upload.read()),
                    year=form.cleaned_data["year"],
                    replace=form.cleaned_data["replace"],
                    source=upload.name,
                )
            except ValidationError as error:
                for problem in error.messages:
                    form.add_error(None, problem)
            else:
                for stored in years:
                    self.message_user(
                        request,
                        gettext("%(year)s: %(count)s days imported from %(file)s.")
                        % {"year": stored.year, "count": stored.days.count(), "file": upload.name},
                        messages.SUCCESS,
                    )
                return redirect("admin:settings_app_publicholidayyear_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import a holiday file"),
            "form": form,
        }
        return TemplateResponse(
            request, "admin/settings_app/publicholidayyear/import.html", context
        )
