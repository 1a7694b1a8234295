from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    """Tracked work addressed to groups, under SLA (工单)."""

    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # Registers the object rules behind may(user, "work" | "supervise" | …, ticket).
        from tickets import permissions  # noqa: F401
