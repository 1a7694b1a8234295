"""Ticket-type fields: one mapping from a field kind to a form field, used by the create
form (the page) and by `clean_answers` (every other caller), so both validate alike.

Answers are stored as JSON-safe values: text as str, number as int or float, a date as
ISO "YYYY-MM-DD", an amount as a decimal string ("129.50").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from core.dates import validate_date_in_range
from tickets.models import TicketField, TicketType

ORDER_NO = RegexValidator(
    re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$"),
    _("An order number has 4 to 40 letters, digits, hyphens or underscores."),
)


def form_field_for(field: TicketField) -> forms.Field:
    common: dict[str, Any] = {
        "label": field.label,
        "required": field.required,
        "help_text": field.help_text,
    }
    kind = field.kind
    if kind == TicketField.Kind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, **common)
    if kind == TicketField.Kind.NUMBER:
        return forms.DecimalField(max_digits=18, decimal_places=6, **common)
    if kind == TicketField.Kind.CHOICE:
        choices = [("", "---------")] + [(o, o) for o in field.option_list]
        return forms.ChoiceField(choices=choices, **common)
    if kind == TicketField.Kind.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}),
            validators=[validate_date_in_range],
            **common,
        )
    if kind == TicketField.Kind.ORDER_NO:
        return forms.CharField(max_length=40, validators=[ORDER_NO], **common)
    if kind == TicketField.Kind.AMOUNT:
        return forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal(0), **common)
    return forms.CharField(max_length=500, **common)


def _to_json(field: TicketField, value: Any) -> Any:
    if value in (None, ""):
        return None
    if field.kind == TicketField.Kind.NUMBER:
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if field.kind == TicketField.Kind.AMOUNT:
        return str(Decimal(value).quantize(Decimal("0.01")))
    if field.kind == TicketField.Kind.DATE:
        return value.isoformat()
    return value


def clean_answers(ticket_type: TicketType, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate raw answers (strings or typed values) against the type; JSON-safe result.

    Raises ValidationError with one message list per field key; unknown keys are refused
    so a typo in an integration does not silently drop data.
    """
    fields = list(ticket_type.fields.all())
    known = {f.key for f in fields}
    errors: dict[str, list[Any]] = {}
    unknown = sorted(set(raw) - known)
    if unknown:
        errors["__all__"] = [
            ValidationError(
                _("Unknown field(s) for this ticket type: %(keys)s"),
                params={"keys": ", ".join(unknown)},
            )
        ]
    cleaned: dict[str, Any] = {}
    for field in fields:
        value = raw.get(field.key)
        if isinstance(value, str):
            value = value.strip()
        try:
            python_value = form_field_for(field).clean("" if value is None else str(value))
        except ValidationError as exc:
            errors[field.key] = exc.error_list
            continue
        result = _to_json(field, python_value)
        if result is not None:
            cleaned[field.key] = result
    if errors:
        raise ValidationError(errors)
    return cleaned
