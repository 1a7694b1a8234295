"""The one error type chat services raise: a stable code for clients plus a readable text."""

from __future__ import annotations

from django.utils.functional import Promise


class ChatError(Exception):
    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
