from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo shop: `seed_demo` fills every app with months of believable data and
    `run_demo` serves it. The top room: it may import every app, and none imports it."""

    name = "demo"
    verbose_name = _("Demo")
