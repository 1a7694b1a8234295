from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from agents.access import restrict
from agents.capabilities import with_capability_q
from agents.models import Shop, SkillGroup, User
from core.dates import validate_date_in_range
from service_orders.models import IssueType, ServiceOrder
from workbench.models import ChannelAccount

_DATE = forms.DateInput(attrs={"type": "date"})


def _scoped(model: Any, *conditions: Any, **filters: Any) -> Any:
    # Choices are narrowed like the rows: a merchant never sees another shop's names.
    def queryset(request: Any) -> Any:
        if request is None:
            return model.objects.none()
        return restrict(model.objects.filter(*conditions, **filters), user=request.user)

    return queryset


class ServiceOrderFilter(django_filters.FilterSet):
    created_from = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=_DATE,
        validators=[validate_date_in_range],
    )
    created_to = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label=_("To"),
        widget=_DATE,
        validators=[validate_date_in_range],
    )
    shop = django_filters.ModelChoiceFilter(queryset=_scoped(Shop, is_active=True), label=_("Shop"))
    channel = django_filters.ModelChoiceFilter(queryset=_scoped(ChannelAccount), label=_("Channel"))
    agent = django_filters.ModelChoiceFilter(
        queryset=_scoped(User, with_capability_q("hold_seat")),
        label=_("Agent"),
    )
    group = django_filters.ModelChoiceFilter(
        queryset=_scoped(SkillGroup, is_active=True), label=_("Skill group")
    )
    issue_type = django_filters.ModelChoiceFilter(
        queryset=IssueType.objects.all(), label=_("Issue type")
    )
    rating = django_filters.ChoiceFilter(
        choices=[(n, str(n)) for n in range(1, 6)], label=_("Rating")
    )

    class Meta:
        model = ServiceOrder
        fields: list[str] = []
