from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceOrdersConfig(AppConfig):
    """The permanent record of every conversation (服务单)."""

    name = "service_orders"
    verbose_name = _("Service orders")
