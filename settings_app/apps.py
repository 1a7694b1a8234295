from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettingsAppConfig(AppConfig):
    """Configuration no domain owns (business calendars, group settings) and the Settings
    page that gathers every app's admin."""

    name = "settings_app"
    verbose_name = _("Settings")
