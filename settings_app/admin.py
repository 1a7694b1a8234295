"""Admin for webhooks (endpoints, allow-list, delivery log), canned replies and the KB."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agents.models import SkillGroup
from settings_app.models import (
    BusinessCalendar,
    CalendarException,
    CannedReply,
    ChannelAccount,
    GroupSettings,
    IssueType,
    KnowledgeArticle,
    KnowledgeCategory,
    KnowledgeQA,
    WebhookAllowedHost,
    WebhookDelivery,
    WebhookEndpoint,
    WorkingInterval,
)
from settings_app.services import webhook_delivery_retry_now, webhook_test_delivery_create
from settings_app.webhook_events import event_choices
from settings_app.webhook_http import BlockedDestination, DeliveryError, check_destination


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


# --- Webhooks ---------------------------------------------------------------------------


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        label=capfirst(_("event types")),
        choices=event_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "shop", "event_types", "secret", "previous_secret", "is_active"]

    def clean_url(self) -> str:
        # Tell the admin now rather than through a "gave up" in the delivery log. Name
        # resolution failures are not an error here: DNS may simply not be set up yet.
        url = self.cleaned_data["url"]
        try:
            check_destination(url)
        except BlockedDestination as exc:
            raise ValidationError(
                gettext(
                    "Kefu will not call this address: %(reason)s. Add the host under "
                    "webhook allowed hosts if it really is meant to be reached."
                )
                % {"reason": exc}
            ) from None
        except DeliveryError:
            pass
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "shop", "subscribed", "is_active", "updated_at"]
    list_filter = ["is_active", "shop"]
    list_select_related = ["shop"]
    search_fields = ["name", "url"]
    actions = ["send_test_event"]

    @admin.display(description=_("events"))
    def subscribed(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types or []) or "—"

    @admin.action(description=_("Send a test event"))
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            delivery = webhook_test_delivery_create(endpoint=endpoint)
            delivery.refresh_from_db()
            self.message_user(
                request,
                gettext("Test event to %(endpoint)s: %(status)s %(detail)s")
                % {
                    "endpoint": endpoint,
                    "status": delivery.get_status_display(),
                    "detail": delivery.last_error or "",
                },
                messages.SUCCESS
                if delivery.status == WebhookDelivery.Status.SUCCEEDED
                else messages.WARNING,
            )


@admin.register(WebhookAllowedHost)
class WebhookAllowedHostAdmin(admin.ModelAdmin):
    list_display = ["host", "note", "created_at"]
    search_fields = ["host", "note"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with "retry now" calling the same service as the sweep."""

    list_display = [
        "pk",
        "created_at",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "last_response_code",
        "last_response_ms",
        "next_attempt_at",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["event_id", "endpoint__name"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    change_form_template = "admin/settings_app/webhookdelivery/change_form.html"

    class Media:
        css = {"all": ["settings_app/admin.css"]}

    fields = readonly_fields = (
        "endpoint",
        "event_type",
        "event_id",
        "event_shop_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_response_code",
        "last_response_ms",
        "last_error",
        "pretty_payload",
        "created_at",
        "delivered_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("settings_app.change_webhookdelivery")

    @admin.display(description=_("payload"))
    def pretty_payload(self, obj: WebhookDelivery) -> str:
        text = json.dumps(obj.payload, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    def get_urls(self) -> list[URLPattern]:
        retry = path(
            "<int:pk>/retry/",
            self.admin_site.admin_view(self.retry_one_view),
            name="settings_app_webhookdelivery_retry",
        )
        return [retry, *super().get_urls()]

    def retry_one_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The detail page's "Retry now" button (POST), same service as the list action."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_retry_permission(request):
            raise PermissionDenied
        self._retry(request, WebhookDelivery.objects.filter(pk=pk))
        return redirect("admin:settings_app_webhookdelivery_change", pk)

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        self._retry(request, queryset)

    def _retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.select_related("endpoint"):
            try:
                result = webhook_delivery_retry_now(delivery=delivery)
            except ValidationError as exc:
                self.message_user(request, f"#{delivery.pk}: {exc.messages[0]}", messages.WARNING)
                continue
            if result is None:
                self.message_user(
                    request,
                    gettext("#%(pk)s is being sent by another worker.") % {"pk": delivery.pk},
                    messages.WARNING,
                )
                continue
            self.message_user(
                request,
                gettext("#%(pk)s: %(status)s %(detail)s")
                % {
                    "pk": result.pk,
                    "status": result.get_status_display(),
                    "detail": result.last_error or "",
                },
                messages.SUCCESS
                if result.status == WebhookDelivery.Status.SUCCEEDED
                else messages.WARNING,
            )


# --- Canned replies and knowledge base --------------------------------------------------


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "shortcut",
        "scope",
        "owner",
        "group",
        "shop",
        "usage_count",
        "is_active",
    ]
    list_filter = [
        "scope",
        "is_active",
        "shop",
        related_filter("group", SkillGroup, _("skill group")),
    ]
    search_fields = ["title", "text", "shortcut"]
    list_select_related = ["owner", "group", "group__shop", "shop"]
    autocomplete_fields = ["owner", "group"]
    readonly_fields = ["usage_count", "created_at", "updated_at"]


@admin.register(KnowledgeCategory)
class KnowledgeCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "position"]
    list_filter = ["shop"]
    search_fields = ["name"]
    list_select_related = ["shop"]


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "shop", "is_published", "updated_at"]
    list_filter = [
        "is_published",
        "shop",
        related_filter("category", KnowledgeCategory, _("category")),
    ]
    search_fields = ["title", "body"]
    list_select_related = ["category", "category__shop", "shop"]


@admin.register(KnowledgeQA)
class KnowledgeQAAdmin(admin.ModelAdmin):
    list_display = ["question", "keywords", "category", "shop", "is_active"]
    list_filter = [
        "is_active",
        "shop",
        related_filter("category", KnowledgeCategory, _("category")),
    ]
    search_fields = ["question", "answer", "keywords"]
    list_select_related = ["category", "category__shop", "shop"]


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


# --- Live chat configuration


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "shop", "default_group", "is_active")
    list_filter = ("is_active", "shop")
    search_fields = ("name", "key")
    autocomplete_fields = ()
    readonly_fields = ("created_at",)


@admin.register(IssueType)
class IssueTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active")
    list_editable = ("position", "is_active")
