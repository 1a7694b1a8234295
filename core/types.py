"""Typing helpers shared by views."""

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from agents.models import User


class AuthedRequest(HttpRequest):
    """A request that passed section_view/login_required: its user is a real User."""

    user: "User"
