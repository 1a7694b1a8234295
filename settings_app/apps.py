from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettingsAppConfig(AppConfig):
    """Channels, routing, business hours, texts and the rest of what admins configure."""

    name = "settings_app"
    verbose_name = _("Settings")
