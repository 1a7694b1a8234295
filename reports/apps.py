from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Reports for supervisors and managers: roll-ups over service orders, tickets, shops."""

    name = "reports"
    verbose_name = _("Reports")
