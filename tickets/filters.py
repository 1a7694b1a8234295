"""The ticket list's filters (django-filter); every choice list is scoped to the user."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.access import restrict, scope_for
from agents.models import Shop, SkillGroup, User
from core.dates import validate_date_in_range
from core.widgets import QuickSelect
from tickets.models import Priority, Ticket, TicketType


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


# The filter bar's model choices (groups, assignees, shops, types) are the same for everyone
# with the same shop scope and change rarely; reading and labelling them was 4 queries and
# ~150 model instances on every list page. They are shared for this long per scope, so a new
# group or type shows up in the filter bar within this time (the data itself is never
# stale: a value picked from the form is still checked against the live, scoped queryset).
FILTER_CHOICES_SECONDS = 30
CACHED_CHOICES = ("group", "assignee", "ticket_type", "shop")


def choices_cache_key(user: Any) -> str:
    """Filter choices depend only on the shop scope (restrict()), not on the person."""
    scope = scope_for(user)
    if scope.all_shops:
        return "tickets:filter-choices:all"
    if scope.is_empty:
        return "tickets:filter-choices:none"
    return "tickets:filter-choices:shops-" + "-".join(str(pk) for pk in sorted(scope.shop_ids))


SLA_STATES = [
    ("ok", _("On track")),
    ("due_soon", _("Due soon")),
    ("breached", _("Breached")),
    ("paused", _("Paused")),
]


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(
        choices=[("open", _("All open")), *Ticket.Status.choices],
        method="by_status",
        label=_("Status"),
        widget=QuickSelect,
    )
    group = django_filters.ModelChoiceFilter(
        queryset=SkillGroup.objects.none(), label=_("Group"), widget=QuickSelect
    )
    assignee = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label=_("Assignee"), widget=QuickSelect
    )
    ticket_type = django_filters.ModelChoiceFilter(
        queryset=TicketType.objects.all(), label=_("Type"), widget=QuickSelect
    )
    priority = django_filters.ChoiceFilter(
        choices=Priority.choices, label=_("Priority"), widget=QuickSelect
    )
    sla = django_filters.ChoiceFilter(
        choices=SLA_STATES, method="sla_state", label=_("SLA"), widget=QuickSelect
    )
    shop = django_filters.ModelChoiceFilter(
        queryset=Shop.objects.none(), label=_("Shop"), widget=QuickSelect
    )
    # Dates are turned into instants at local midnight, so the filter stays a range
    # on created_at (sargable) instead of a per-row date conversion.
    created_after = django_filters.DateFilter(
        method="created_from",
        label=_("Created from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_in_range],
    )
    created_before = django_filters.DateFilter(
        method="created_until",
        label=_("Created until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_in_range],
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A merchant's tickets may sit with platform groups (e.g. the refunds desk), so
        # platform groups are offered too; their names are not shop data.
        # select_related: a shop group's label names its shop (no query per shop group).
        self.filters["group"].queryset = SkillGroup.objects.select_related("shop").filter(
            Q(pk__in=restrict(SkillGroup.objects.all(), user=user).values("pk"))
            | Q(shop__isnull=True)
        )
        self.filters["assignee"].queryset = restrict(
            User.objects.filter(skill_groups__isnull=False).distinct(), user=user
        )
        self.filters["shop"].queryset = restrict(Shop.objects.all(), user=user)
        self._user = user

    def use_cached_choices(self) -> None:
        """Before rendering the form: its model choices from the per-scope cache (see
        FILTER_CHOICES_SECONDS). Only the page calls this (the API never renders the form);
        validation still goes through each field's live, scoped queryset."""
        form = self.form
        fields = {name: form.fields[name] for name in CACHED_CHOICES}
        key = choices_cache_key(self._user)
        choices: dict[str, list[tuple[int, str]]] | None = cache.get(key)
        if choices is None:
            choices = {}
            for name, field in fields.items():
                assert isinstance(field, forms.ModelChoiceField)
                choices[name] = [
                    (obj.pk, field.label_from_instance(obj)) for obj in field.queryset or []
                ]
            cache.set(key, choices, FILTER_CHOICES_SECONDS)
        for name, field in fields.items():
            assert isinstance(field, forms.ModelChoiceField)
            empty = [("", field.empty_label)] if field.empty_label is not None else []
            field.widget.choices = [*empty, *choices[name]]

    def search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip().lstrip("#")
        if not value:
            return queryset
        condition = Q(title__icontains=value)
        if value.isdigit():
            condition |= Q(pk=int(value))
        return queryset.filter(condition)

    def created_from(self, queryset: QuerySet[Ticket], name: str, value: date) -> QuerySet[Ticket]:
        return queryset.filter(created_at__gte=_midnight(value))

    def created_until(self, queryset: QuerySet[Ticket], name: str, value: date) -> QuerySet[Ticket]:
        return queryset.filter(created_at__lt=_midnight(value + timedelta(days=1)))

    def by_status(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        if value == "open":
            return queryset.filter(status__in=Ticket.OPEN_STATUSES)
        return queryset.filter(status=value)

    def sla_state(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        now = timezone.now()
        if value == "breached":
            return queryset.filter(sla_due__lte=now)
        if value == "due_soon":
            return queryset.filter(sla_warn_at__lte=now, sla_due__gt=now)
        if value == "ok":
            return queryset.filter(sla_due__gt=now, sla_warn_at__gt=now)
        if value == "paused":
            return queryset.filter(paused_at__isnull=False)
        return queryset
