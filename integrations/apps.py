from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Kefu's edges to other systems: outbound webhooks today, channel adapters next."""

    name = "integrations"
    verbose_name = _("Integrations")
