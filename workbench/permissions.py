"""Object rules for live chat, asked through agents.capabilities.may().

The services ask them before they change anything (workbench.services.conversations), so
the websocket, a future REST endpoint or a bot cannot skip them. Imported from
WorkbenchConfig.ready().
"""

from __future__ import annotations

from typing import Any

from agents.access import can_see_shop
from agents.capabilities import may, object_rule
from workbench.models import Conversation


def _in_scope(user: Any, conversation: Conversation) -> bool:
    # A platform conversation (no shop) is seen only by those who see every shop.
    return can_see_shop(user, conversation.shop_id)


def _holder_or_supervisor(user: Any, conversation: Conversation) -> bool:
    """Whoever holds it (anyone in scope while it waits unheld), or a supervisor."""
    if not _in_scope(user, conversation):
        return False
    return conversation.agent_id in (None, user.pk) or may(user, "supervise")


@object_rule("close", Conversation)
def may_close(user: Any, conversation: Conversation) -> bool:
    return _holder_or_supervisor(user, conversation)


@object_rule("transfer", Conversation)
def may_transfer(user: Any, conversation: Conversation) -> bool:
    return _holder_or_supervisor(user, conversation)


@object_rule("hold", Conversation)
def may_hold(user: Any, conversation: Conversation) -> bool:
    """May take the conversation as a transfer target: has a seat and sees its shop (a
    merchant agent of another shop never receives it)."""
    return may(user, "hold_seat") and _in_scope(user, conversation)
