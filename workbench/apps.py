from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    """The agent console (操作台) and the info query."""

    name = "workbench"
    verbose_name = _("Workbench")

    def ready(self) -> None:
        # Registers the conversation rules with agents.capabilities.
        from workbench import permissions  # noqa: F401
