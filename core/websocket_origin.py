"""Which websocket handshakes may come in, by their Origin header.

A browser always sends Origin on a websocket handshake, and a page of another site must
not open a signed-in agent's socket with the agent's cookie (cross-site websocket
hijacking): a present Origin must be one of ALLOWED_HOSTS, or the handshake is refused
(HTTP 403). A client without Origin is not a browser (a mobile app, a bot, a script): no
other site can lend it a cookie, it brings its own credentials, so it passes and is then
authenticated like any other (docs/realtime.md).
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return bool(super().valid_origin(parsed_origin))


def allowed_hosts_origin_validator(application: Any) -> BrowserOriginValidator:
    """Channels' AllowedHostsOriginValidator, letting clients without Origin in."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)
