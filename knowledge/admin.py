"""Admin for canned replies and the knowledge base."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.models import SkillGroup
from core.admin_filters import related_filter
from knowledge.models import CannedReply, KnowledgeArticle, KnowledgeCategory, KnowledgeQA

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
