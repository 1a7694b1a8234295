"""The channel-layer groups of live chat and the doorbells the services ring on them.

Only services ring, and only after commit (core.realtime.broadcast_on_commit). The
consumers join these groups (docs/realtime.md lists the events).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.realtime import broadcast_on_commit
from workbench.models import Conversation, Message
from workbench.payloads import conversation_list_item, conversation_state, message_payload
from workbench.selectors import conversation_for_lists, queue_ids

# A queue event lists at most this many waiting conversations; customers further back
# keep the position they last read.
QUEUE_EVENT_LIMIT = 1000


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def queue_group(group_id: int) -> str:
    """Agents (and supervisors) whose workbench lists this group's waiting conversations."""
    return f"queue.{group_id}"


def waiting_group(group_id: int) -> str:
    """Customers waiting in this group's queue: they hear when the order of it changes."""
    return f"waiting.{group_id}"


def ring_message(message: Message, *, agent_name: str = "") -> None:
    """A new message, to everyone watching its conversation (both send paths use this)."""
    broadcast_on_commit(
        f"conv.{message.conversation_id}",
        {"type": "chat.message", "message": message_payload(message, agent_name=agent_name)},
    )


def ring_state(conversation: Conversation, **extra: Any) -> None:
    state = conversation_state(conversation)
    broadcast_on_commit(conversation.group_name(), {"type": "chat.state", "state": state, **extra})


def ring_queue_order(group_id: int) -> None:
    """Someone left the group's queue, or joined it ahead of others (a transfer keeps its
    start time): tell the waiting customers their new places. The order is read after
    commit, once for all of them, instead of once per waiting customer."""

    def event() -> dict[str, Any]:
        ids = queue_ids(group_id, limit=QUEUE_EVENT_LIMIT + 1)
        return {
            "type": "chat.queue",
            "group_id": group_id,
            "queue": ids[:QUEUE_EVENT_LIMIT],
            "complete": len(ids) <= QUEUE_EVENT_LIMIT,
        }

    broadcast_on_commit(waiting_group(group_id), event)


def _list_event(conversation_id: int) -> Callable[[], dict[str, Any]]:
    """The `list` doorbell carries the conversation's row as the lists show it, read once
    after commit however many groups hear it, so an agent's client need not re-read its
    lists to learn what changed."""
    built: list[dict[str, Any]] = []

    def event() -> dict[str, Any]:
        if not built:
            row = conversation_for_lists(conversation_id)
            item = conversation_list_item(row) if row is not None else None
            built.append({"type": "chat.list", "conversation": item})
        return built[0]

    return event


def ring_lists(
    conversation: Conversation,
    *,
    agent_ids: tuple[int | None, ...] = (),
    old_group_id: int | None = None,
) -> None:
    """Workbench lists changed: ring the group's queue, the agents concerned, and the
    queue the conversation left (a transfer)."""
    event = _list_event(conversation.pk)
    groups = [queue_group(conversation.group_id)]
    if old_group_id is not None and old_group_id != conversation.group_id:
        groups.append(queue_group(old_group_id))
    groups += [agent_group(a) for a in sorted({a for a in agent_ids if a})]
    for group in groups:
        broadcast_on_commit(group, event)
