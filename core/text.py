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
