"""Helpers of the API tests."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

API = "/api/v1/tickets/"
GOOD = {"order_no": "BT20261101001"}


def api_for(user: Any) -> APIClient:
    """A client authenticated the way an integration is: with its token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
