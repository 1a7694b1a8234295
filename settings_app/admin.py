from django.contrib import admin

from settings_app.models import ChannelAccount, IssueType


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
