from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    """Customers and the demo commerce backend (orders, logistics, after-sales, points)."""

    name = "commerce"
    verbose_name = _("Commerce")
