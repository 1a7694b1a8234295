"""The channel-layer groups of live chat and the doorbells the services ring on them.

Only services ring, and only after commit (core.realtime.broadcast_on_commit). The
consumers join these groups (docs/realtime.md lists the events).
"""

from __future__ import annotations

from typing import Any

from core.realtime import broadcast_on_commit
from workbench.models import Conversation, Message
from workbench.payloads import conversation_state, message_payload
from workbench.selectors import queue_ids

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


def ring_lists(conversation: Conversation, *, agent_ids: tuple[int | None, ...] = ()) -> None:
    """Workbench lists changed: ring the group's queue and the agents concerned."""
    broadcast_on_commit(queue_group(conversation.group_id), {"type": "chat.list"})
    for agent_id in {a for a in agent_ids if a}:
        broadcast_on_commit(agent_group(agent_id), {"type": "chat.list"})


def ring_queue_list(group_id: int) -> None:
    """The group's waiting list changed (a conversation left it)."""
    broadcast_on_commit(queue_group(group_id), {"type": "chat.list"})
