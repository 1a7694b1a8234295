"""The refusals ticket services raise, each with a message for the person who tried."""

from __future__ import annotations

from django.utils.translation import gettext as _


class TicketError(Exception):
    """A refused change, with a message for the person who tried it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransitionError(TicketError):
    pass


class StaleTicketError(TicketError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this ticket while you were looking at it. "
                "Reload it to see their change; what you typed is still in the form."
            )
        )


class TicketPermissionError(TicketError):
    pass
