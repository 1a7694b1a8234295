"""Admin for business calendars and group settings."""

from __future__ import annotations

from django.contrib import admin

from settings_app.models import BusinessCalendar, CalendarException, GroupSettings, WorkingInterval

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
