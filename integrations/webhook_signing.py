"""Stripe-style webhook signatures: ``X-Kefu-Signature: t=<unix ts>,v1=<hex HMAC-SHA256>``.

The MAC covers ``f"{t}.{body}"`` (the raw request body bytes), so a receiver that checks it
and rejects old timestamps is protected against forged and replayed requests. `verify` is
the reference receiver-side check that docs/webhooks.md describes.
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


def compute_mac(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(*, secret: str, timestamp: int, body: bytes, previous_secret: str = "") -> str:
    """The header value; during a secret rotation it carries one v1 per secret."""
    parts = [f"t={timestamp}", f"v1={compute_mac(secret=secret, timestamp=timestamp, body=body)}"]
    if previous_secret:
        parts.append(f"v1={compute_mac(secret=previous_secret, timestamp=timestamp, body=body)}")
    return ",".join(parts)


def verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a signature header; return its timestamp or raise SignatureError."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window")
    expected = compute_mac(secret=secret, timestamp=timestamp, body=body)
    # Several v1 values may be present while a secret is being rotated.
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureError("signature does not match")
    return timestamp
