"""Admin for chat channels."""

from __future__ import annotations

from django.contrib import admin

from workbench.models import ChannelAccount

# --- Live chat configuration


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "shop", "default_group", "is_active")
    list_filter = ("is_active", "shop")
    search_fields = ("name", "key")
    autocomplete_fields = ()
    readonly_fields = ("created_at",)
