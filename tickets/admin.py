from typing import Any

from django.contrib import admin

from tickets.models import (
    ApiIdempotencyKey,
    SavedView,
    SlaEvent,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketField,
    TicketNode,
    TicketType,
)


class TicketFieldInline(admin.TabularInline):
    model = TicketField
    extra = 0
    fields = ["position", "key", "label", "kind", "required", "options", "help_text"]


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "default_group", "category", "is_active", "position"]
    list_editable = ["is_active", "position"]
    search_fields = ["name"]
    inlines = [TicketFieldInline]


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "ticket_type",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "remind_before_minutes",
        "reassign_on_breach",
        "is_active",
    ]
    list_filter = ["is_active", "priority"]


class TicketNodeInline(admin.TabularInline):
    model = TicketNode
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "actor", "group", "assignee", "status", "comment"]
    readonly_fields = ["created_at", "action", "actor", "group", "assignee", "status", "comment"]

    def has_add_permission(self, request, obj=None):
        # The audit trail is written by the services only.
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-mostly: state changes go through the ticket page so every step is a node."""

    list_display = ["id", "title", "status", "priority", "group", "assignee", "shop", "created_at"]
    list_filter = ["status", "priority", "ticket_type"]
    list_select_related = ["group", "assignee", "shop"]
    search_fields = ["title", "id"]
    readonly_fields = [
        f.name for f in Ticket._meta.fields if f.name not in {"title", "description"}
    ]
    inlines = [TicketNodeInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        # Tickets are filed through the ticket pages (or the API), which run ticket_create:
        # answers validated, SLA started, assignment queued, creation node written.
        return False


@admin.register(SlaEvent)
class SlaEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "deadline_kind", "deadline", "kind", "created_at", "delivered_at"]
    list_filter = ["kind", "deadline_kind"]
    raw_id_fields = ["ticket"]


admin.site.register(
    TicketAttachment,
    list_display=["name", "ticket", "size", "created_at"],
    raw_id_fields=["ticket"],
)
admin.site.register(SavedView, list_display=["name", "user", "querystring"])


@admin.register(ApiIdempotencyKey)
class ApiIdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: what the API remembered for retried creates (kept 24 hours)."""

    list_display = ["key", "user", "status_code", "created_at", "expires_at"]
    search_fields = ["key", "user__username"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in ApiIdempotencyKey._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
