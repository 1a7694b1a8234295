from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operating an installation: `kefu_backup` and `kefu_restore` (the database and the
    uploaded files together). Just below config: it knows no domain, and none imports it."""

    name = "ops"
    verbose_name = _("Operations")
