"""What has no other owner: business calendars (营业时间, holidays, 调休) and per-group
settings that use them."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import SkillGroup

# --- Business hours and holiday calendars, and per-group settings that use them.


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known time zone (e.g. Asia/Shanghai)."),
            params={"value": value},
        ) from None


class BusinessCalendar(models.Model):
    """A working calendar: weekly hours in a time zone, public holidays, extra days."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    follow_china_holidays = models.BooleanField(
        _("follow China's public holidays"),
        default=True,
        help_text=_(
            "Closed on official holidays and open on the adjusted working days (调休), "
            "as published by the State Council."
        ),
    )
    adjusted_day_hours_from = models.PositiveSmallIntegerField(
        _("adjusted working days use the hours of"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("An adjusted working day on a weekend works the hours of this weekday."),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingInterval(models.Model):
    """One stretch of working time on a weekday (a day may have several, e.g. around lunch)."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="intervals",
        verbose_name=_("calendar"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is None or self.end is None:
            return
        end_is_midnight = self.end.hour == 0 and self.end.minute == 0 and self.end.second == 0
        if not end_is_midnight and self.end <= self.start:
            raise ValidationError(_("The end must be after the start."))


class CalendarException(models.Model):
    """A date an admin declares closed (extra holiday) or open (extra working day)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Closed (holiday)")
        WORKDAY = "workday", _("Open (working day)")

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="exceptions",
        verbose_name=_("calendar"),
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendarexception_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


# --- The official holiday list (国务院节假日安排), imported per year


class PublicHolidayYear(models.Model):
    """One year of the State Council's holiday arrangement, imported from a file.

    A year that is here is complete: its listed days are the official holidays and 调休
    working days, every other date is an ordinary day, and chinese-calendar is not asked.
    """

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    source = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        help_text=_("Where the list comes from, e.g. the notice's number or the file name."),
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        verbose_name = _("public holiday year")
        verbose_name_plural = _("public holiday years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class PublicHolidayDay(models.Model):
    """One date of an imported year: an official holiday or an adjusted working day."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        WORKDAY = "workday", _("Adjusted working day (调休上班)")

    year = models.ForeignKey(
        PublicHolidayYear,
        on_delete=models.CASCADE,
        related_name="days",
        verbose_name=_("year"),
    )
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=40, blank=True, help_text=_("e.g. 春节"))

    class Meta:
        verbose_name = _("public holiday day")
        verbose_name_plural = _("public holiday days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["holiday", "workday"]),
                name="publicholidayday_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.date is not None and self.year_id is not None and self.date.year != self.year.year:
            raise ValidationError(
                {"date": _("The date must be in %(year)s.") % {"year": self.year.year}}
            )


class GroupSettings(models.Model):
    """How a skill group works: its calendar and how long an untouched ticket waits."""

    group = models.OneToOneField(
        SkillGroup,
        on_delete=models.CASCADE,
        related_name="settings",
        verbose_name=_("group"),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="groups",
        verbose_name=_("calendar"),
        help_text=_("Empty: the group works around the clock."),
    )
    reassign_after_minutes = models.PositiveIntegerField(
        _("reassign untouched tickets after (business minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)],
        help_text=_("Empty: never reassign automatically."),
    )

    class Meta:
        verbose_name = _("group settings")
        verbose_name_plural = _("group settings")

    def __str__(self) -> str:
        return str(self.group)
