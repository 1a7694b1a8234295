from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """Knowledge base (知识库), canned replies (常用语), text matching and quick send."""

    name = "knowledge"
    verbose_name = _("Knowledge")
