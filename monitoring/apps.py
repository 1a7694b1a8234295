from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    """Live seats and queues for supervisors (坐席监控)."""

    name = "monitoring"
    verbose_name = _("Monitoring")
