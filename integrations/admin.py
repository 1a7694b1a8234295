"""Admin for outbound webhooks: endpoints, the allow-list and the delivery log."""

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

from integrations.models import WebhookAllowedHost, WebhookDelivery, WebhookEndpoint
from integrations.services import webhook_delivery_retry_now, webhook_test_delivery_create
from integrations.webhook_events import event_choices
from integrations.webhook_http import BlockedDestination, DeliveryError, check_destination

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
    change_form_template = "admin/integrations/webhookdelivery/change_form.html"

    class Media:
        css = {"all": ["integrations/admin.css"]}

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
        return request.user.has_perm("integrations.change_webhookdelivery")

    @admin.display(description=_("payload"))
    def pretty_payload(self, obj: WebhookDelivery) -> str:
        text = json.dumps(obj.payload, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    def get_urls(self) -> list[URLPattern]:
        retry = path(
            "<int:pk>/retry/",
            self.admin_site.admin_view(self.retry_one_view),
            name="integrations_webhookdelivery_retry",
        )
        return [retry, *super().get_urls()]

    def retry_one_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The detail page's "Retry now" button (POST), same service as the list action."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_retry_permission(request):
            raise PermissionDenied
        self._retry(request, WebhookDelivery.objects.filter(pk=pk))
        return redirect("admin:integrations_webhookdelivery_change", pk)

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
