"""List filters shared by the apps' admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


def related_filter(field: str, model: Any, title: Any) -> type[admin.SimpleListFilter]:
    """A list filter over a related model whose __str__ shows its shop, in one query
    (Django's related filter would load each row's shop separately)."""

    class Filter(admin.SimpleListFilter):
        parameter_name = f"{field}_id"

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
            return [(obj.pk, str(obj)) for obj in model.objects.select_related("shop")]

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            return queryset.filter(**{f"{field}_id": value}) if value else queryset

    Filter.title = title
    return Filter
