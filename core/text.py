"""Text hygiene shared by every edge: one-line values and control characters."""

from __future__ import annotations

import re

# Control characters other than the whitespace that single_line folds (tab, newlines).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def single_line(value: str) -> str:
    """Fold every run of white space (line breaks, tabs, U+2028…) into one space and trim:
    for values that end up in one-line places such as an email subject."""
    return " ".join(value.split())


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value))


# NUL cannot be stored in a PostgreSQL text column, and a lone surrogate cannot be encoded
# as UTF-8: both would fail deep inside a write (a 500, a dropped socket).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_unstorable(value: str) -> bool:
    return bool(_UNSTORABLE.search(value))


def find_unstorable(value: object, *, depth: int = 0) -> bool:
    """Whether any string (or key) inside decoded JSON holds NUL or a lone surrogate."""
    if isinstance(value, str):
        return is_unstorable(value)
    if depth > 32:
        return False
    if isinstance(value, dict):
        return any(
            find_unstorable(k, depth=depth + 1) or find_unstorable(v, depth=depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(find_unstorable(v, depth=depth + 1) for v in value)
    return False
