"""Forms of configuration pages: the holiday file upload in Django admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class HolidayFileForm(forms.Form):
    """The same three inputs as `manage.py import_holidays FILE [--year Y] [--replace]`."""

    file = forms.FileField(
        label=_("holiday file"),
        help_text=_("UTF-8 CSV with date,kind,name lines (kind: holiday or workday)."),
    )
    year = forms.IntegerField(
        label=_("year"),
        required=False,
        min_value=2000,
        max_value=2100,
        help_text=_("Optional: every date must be in this year. Empty: each date's own year."),
    )
    replace = forms.BooleanField(
        label=_("replace a year imported before"),
        required=False,
    )
