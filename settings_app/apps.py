from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettingsAppConfig(AppConfig):
    """Configuration no domain owns (business calendars, group settings) and the Settings
    page that gathers every app's admin."""

    name = "settings_app"
    verbose_name = _("Settings")

    def ready(self) -> None:
        from core import health
        from settings_app.selectors import holidays_health

        # /healthz shows the years without a public holiday list (a warning, never a 503).
        health.register("holidays", holidays_health)
