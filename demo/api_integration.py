"""Demo: an order system's integration account with a known token, to try the API."""

from __future__ import annotations

from rest_framework.authtoken.models import Token

from agents.models import Shop, User
from agents.roles import Role
from agents.services import user_create

DEMO_INTEGRATION = "blossom-oms"
# Demo only (seed_demo resets demo credentials anyway): a known key so docs/api.md's curl
# examples work against `make demo` as they are.
DEMO_TOKEN = "kefudemo0blossom0oms0token00000000000000"  # noqa: S105


def seed_api_integration(*, shop: Shop) -> Token:
    """Blossom Tea's order system: a merchant-agent account of that shop with a token."""
    user = User.objects.filter(username=DEMO_INTEGRATION).first()
    if user is None:
        user = user_create(
            username=DEMO_INTEGRATION,
            password=None,
            role=Role.MERCHANT_AGENT,
            display_name="Blossom order system",
            shops=[shop],
        )
    Token.objects.filter(user=user).exclude(key=DEMO_TOKEN).delete()
    token, _ = Token.objects.get_or_create(user=user, defaults={"key": DEMO_TOKEN})
    return token
