from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Cross-cutting plumbing no domain owns: navigation, realtime, the demo scheduler."""

    name = "core"
    verbose_name = _("Core")
