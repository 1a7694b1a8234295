from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _drain_on_seat_online(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    from workbench.tasks import drain_queues_of_agent

    drain_queues_of_agent.delay(user_id)


class WorkbenchConfig(AppConfig):
    """The agent console (操作台), the customer widget, conversations and messages."""

    name = "workbench"
    verbose_name = _("Workbench")

    def ready(self) -> None:
        from agents.signals import seat_came_online

        seat_came_online.connect(_drain_on_seat_online, dispatch_uid="workbench.drain_on_online")

        # Registers the conversation rules with agents.capabilities.
        from workbench import permissions  # noqa: F401
