"""Websocket consumers of live chat: thin. Validate the frame, call a service through
core.async_db.db, answer. The protocol is documented in docs/realtime.md; the rules
(who may close, transfer, reply) are the services' (workbench.services)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from agents.models import User
from agents.sockets import CLOSE_HELLO_TIMEOUT, CLOSE_UNAUTHENTICATED, AccessGuardMixin
from core.addresses import scope_address
from core.async_db import db
from service_orders.selectors import issue_type_get_active
from workbench import selectors
from workbench.errors import ChatError
from workbench.frames import (
    BadFrame,
    FrameConsumer,
    read_int,
    read_str,
    with_ref,
)
from workbench.models import Conversation, Message, Visitor
from workbench.payloads import conversation_state, message_payload
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_rate,
    conversation_transfer,
)
from workbench.services.doorbells import agent_group, queue_group, waiting_group
from workbench.services.messages import conversation_mark_read, conversation_typing, message_send
from workbench.services.visitors import visitor_message_send


def _messages_frame(conversation: Conversation, after_seq: int) -> dict[str, Any]:
    batch = selectors.messages_after(conversation=conversation, after_seq=after_seq)
    return {
        "type": "messages",
        "conversation_id": conversation.pk,
        "messages": [
            message_payload(m, agent_name=m.agent.name if m.agent_id else "") for m in batch
        ],
        "more": len(batch) == selectors.MAX_BATCH,
    }


# --- Customer -----------------------------------------------------------------------------


class VisitorConsumer(FrameConsumer):
    """The customer's socket. Authenticated by the `hello` frame's visitor token."""

    handlers = {
        "hello": "on_hello",
        "send": "on_send",
        "sync": "on_sync",
        "typing": "on_typing",
        "read": "on_read",
        "rate": "on_rate",
    }
    rate_limited_types = frozenset({"send"})
    rate_setting = "KEFU_RATE_VISITOR_SOCKET_SENDS"

    visitor: Visitor | None = None
    conversation: Conversation | None = None
    # The queue position last sent to this customer (None: not waiting).
    position: int | None = None

    async def connect(self) -> None:
        self.groups: list[str] = []
        await self.accept()
        # A socket that never says who it is does not hold a connection for long.
        self._hello_timer: asyncio.Task[None] | None = asyncio.ensure_future(
            self._close_without_hello(float(settings.KEFU_SOCKET_HELLO_SECONDS))
        )

    async def _close_without_hello(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.visitor is None:
            await self.send_error(
                ChatError("hello_timeout", _("Send hello within %(n)d seconds.") % {"n": seconds})
            )
            await self.close(code=CLOSE_HELLO_TIMEOUT)

    def _stop_hello_timer(self) -> None:
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None

    async def disconnect(self, code: int) -> None:
        self._stop_hello_timer()

    async def allow(self, kind: Any) -> bool:
        if self.visitor is None and kind != "hello":
            await self.send_error(ChatError("hello_first", _("Send hello first.")))
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        return True

    async def _follow(self, conversation: Conversation | None) -> None:
        """Listen to this conversation, and to its group's queue while it waits there."""
        wanted: set[str] = set()
        if conversation is not None:
            wanted.add(conversation.group_name())
            if conversation.status == Conversation.Status.QUEUED:
                wanted.add(waiting_group(conversation.group_id))
        for group in [g for g in self.groups if g not in wanted]:
            await self.leave(group)
        for group in sorted(wanted - set(self.groups)):
            await self.join(group)
        self.conversation = conversation

    async def on_hello(self, frame: dict[str, Any]) -> None:
        if self.visitor is not None:
            raise BadFrame("bad_frame", _("hello was already sent."))
        token = read_str(frame, "visitor_token", default="")
        after_seq = read_int(frame, "after_seq", required=False) or 0
        known_id = read_int(frame, "conversation_id", required=False)
        # A well-formed hello came in time; a slow lookup does not close the socket.
        self._stop_hello_timer()
        visitor = await db(selectors.visitor_from_token)(token=token)
        if visitor is None:
            await self.send_error(ChatError("not_authenticated", _("Unknown visitor token.")))
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.visitor = visitor

        def load() -> tuple[Conversation | None, dict[str, Any] | None, dict[str, Any] | None]:
            conversation = selectors.visitor_current_conversation(visitor=visitor)
            if conversation is None:
                return None, None, None
            # after_seq counts in the conversation the client holds; a different (newer)
            # conversation is sent from its start.
            since = after_seq if known_id in (None, conversation.pk) else 0
            return (
                conversation,
                selectors.conversation_state_for_customer(conversation=conversation),
                _messages_frame(conversation, since),
            )

        conversation, state, messages = await db(load)()
        await self._follow(conversation)
        self.position = state["queue_position"] if state is not None else None
        channel = visitor.channel
        await self.send_frame(
            {
                "type": "welcome",
                "identified": visitor.customer_id is not None,
                "channel": {"name": channel.name, "greeting": channel.greeting},
                "conversation": state,
            }
        )
        if messages is not None:
            await self.send_frame(messages)
        self.watch_layer()

    async def resync(self) -> None:
        """Pushes may have been lost while the channel layer was away: send the current
        state, then `resync` (the client answers with `sync`)."""
        if self.conversation is not None:
            with contextlib.suppress(Conversation.DoesNotExist):
                await self._push_state()
        await super().resync()

    async def on_send(self, frame: dict[str, Any]) -> None:
        assert self.visitor is not None
        client_id = read_str(frame, "client_id")
        text = read_str(frame, "text", default="")
        visitor = self.visitor

        followed = self.conversation

        def send() -> tuple[Conversation, Message, dict[str, Any] | None, dict[str, Any] | None]:
            sent = visitor_message_send(
                visitor=visitor,
                client_id=client_id,
                text=text,
                followed=followed,
                address=scope_address(self.scope),
            )
            conversation = sent.conversation
            new_state = batch = None
            if conversation.status != Conversation.Status.CLOSED and (
                followed is None or followed.pk != conversation.pk
            ):
                # A conversation this socket did not follow yet (just started, or started
                # on another device): its doorbells so far (the greeting, this message)
                # rang before the socket joined, so they are sent here.
                new_state = selectors.conversation_state_for_customer(conversation=conversation)
                batch = _messages_frame(conversation, 0)
            return conversation, sent.message, new_state, batch

        conversation, message, new_state, batch = await db(send)()
        if new_state is not None and batch is not None:
            await self._follow(conversation)
            self.position = new_state["queue_position"]
            await self.send_frame({"type": "conversation", "conversation": new_state})
            await self.send_frame(batch)
        await self.send_frame(
            with_ref(
                {
                    "type": "ack",
                    "client_id": client_id,
                    "id": message.pk,
                    "seq": message.seq,
                    "conversation_id": message.conversation_id,
                },
                frame,
            )
        )

    def _current(self) -> Conversation:
        if self.conversation is None:
            raise ChatError("unknown_conversation", _("No conversation yet."))
        return self.conversation

    async def on_sync(self, frame: dict[str, Any]) -> None:
        after_seq = read_int(frame, "after_seq") or 0
        out = await db(_messages_frame)(self._current(), after_seq)
        await self.send_frame(with_ref(out, frame))

    async def on_typing(self, frame: dict[str, Any]) -> None:
        await db(conversation_typing)(conversation=self._current(), side=Message.Sender.CUSTOMER)

    async def on_read(self, frame: dict[str, Any]) -> None:
        seq = read_int(frame, "seq") or 0
        await db(conversation_mark_read)(
            conversation=self._current(), side=Message.Sender.CUSTOMER, seq=seq
        )

    async def on_rate(self, frame: dict[str, Any]) -> None:
        comment = read_str(frame, "comment", default="")
        order = await db(conversation_rate)(
            conversation=self._current(), rating=frame.get("rating"), comment=comment
        )
        await self.send_frame({"type": "rated", "rating": order.rating})

    # Channel-layer events (see workbench.services.doorbells).
    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_frame({"type": "message", "message": event["message"]})

    async def chat_state(self, event: dict[str, Any]) -> None:
        await self._push_state()

    async def chat_queue(self, event: dict[str, Any]) -> None:
        """The waiting order of our group changed: find our place in it, no database."""
        conversation = self.conversation
        if (
            conversation is None
            or conversation.status != Conversation.Status.QUEUED
            or event["group_id"] != conversation.group_id
        ):
            return
        try:
            position = event["queue"].index(conversation.pk) + 1
        except ValueError:
            # Further back than the event lists, or no longer waiting (its own state
            # event is on the way): keep what the customer was last told.
            return
        if position != self.position:
            self.position = position
            state = conversation_state(conversation, queue_position=position)
            await self.send_frame({"type": "conversation", "conversation": state})

    async def _push_state(self) -> None:
        if self.conversation is None:
            return
        conversation_id = self.conversation.pk

        def load() -> tuple[Conversation, dict[str, Any]]:
            conversation = Conversation.objects.select_related("agent").get(pk=conversation_id)
            return conversation, selectors.conversation_state_for_customer(
                conversation=conversation
            )

        conversation, state = await db(load)()
        await self._follow(conversation)
        self.position = state["queue_position"]
        await self.send_frame({"type": "conversation", "conversation": state})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["side"] == Message.Sender.AGENT:
            await self.send_frame({"type": "typing", "side": "agent"})

    async def chat_read(self, event: dict[str, Any]) -> None:
        if event["side"] == Message.Sender.AGENT:
            await self.send_frame({"type": "read", "side": "agent", "seq": event["seq"]})

    async def chat_rated(self, event: dict[str, Any]) -> None:
        pass  # the customer who rated got `rated` as the answer


# --- Agent --------------------------------------------------------------------------------


class AgentConsumer(AccessGuardMixin, FrameConsumer):
    """An agent's workbench socket (session-authenticated). Its rights end with the user's
    (agents.sockets): sign-out, deactivation, a role or shop change close it."""

    handlers = {
        "watch": "on_watch",
        "unwatch": "on_unwatch",
        "accept": "on_accept",
        "send": "on_send",
        "transfer": "on_transfer",
        "close": "on_close",
        "typing": "on_typing",
        "read": "on_read",
        "sync": "on_sync",
    }
    rate_limited_types = frozenset({"send"})
    rate_setting = "KEFU_RATE_AGENT_SOCKET_SENDS"
    user: User

    async def connect(self) -> None:
        self.groups: list[str] = []
        # Accepts, then checks: refusals are close codes 4401/4403 (docs/realtime.md).
        if not await self.guard_connect("workbench"):
            return
        user = self.scope["user"]
        self.user = user
        self.watching: set[int] = set()
        group_ids = await db(self._queue_ids)()
        await self.accept()
        await self.join(agent_group(user.pk))
        for group_id in group_ids:
            await self.join(queue_group(group_id))
        await self.send_frame(
            {"type": "welcome", "user_id": user.pk, "queue_group_ids": sorted(group_ids)}
        )
        self.watch_layer()

    async def disconnect(self, code: int) -> None:
        await self.guard_disconnect()

    def _queue_ids(self) -> list[int]:
        # Every group whose waiting list this agent sees (supervisors: all in scope).
        return [g.pk for g in selectors.queue_groups_for(user=self.user)]

    async def _conversation(self, frame: dict[str, Any]) -> Conversation:
        pk = read_int(frame, "conversation_id") or 0

        def load() -> Conversation | None:
            return selectors.conversation_list_for(user=self.user).filter(pk=pk).first()

        conversation = await db(load)()
        if conversation is None:
            raise ChatError("unknown_conversation", _("No such conversation."))
        return conversation

    async def done(self, frame: dict[str, Any], action: str, conversation_id: int) -> None:
        out: dict[str, Any] = {"type": "done", "action": action, "conversation_id": conversation_id}
        await self.send_frame(with_ref(out, frame))

    async def on_watch(self, frame: dict[str, Any]) -> None:
        after_seq = read_int(frame, "after_seq", required=False) or 0
        conversation = await self._conversation(frame)
        group = conversation.group_name()
        if conversation.pk not in self.watching:
            await self.join(group)
            self.watching.add(conversation.pk)
        out = await db(_messages_frame)(conversation, after_seq)
        await self.send_frame(with_ref(out, frame))

    async def on_sync(self, frame: dict[str, Any]) -> None:
        """What `watch` answers, without following the conversation from now on."""
        after_seq = read_int(frame, "after_seq", required=False) or 0
        conversation = await self._conversation(frame)
        out = await db(_messages_frame)(conversation, after_seq)
        await self.send_frame(with_ref(out, frame))

    async def on_unwatch(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        if conversation.pk in self.watching:
            self.watching.discard(conversation.pk)
            await self.leave(conversation.group_name())
        await self.done(frame, "unwatch", conversation.pk)

    async def on_accept(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        await db(conversation_accept)(conversation_id=conversation.pk, agent=self.user)
        await self.done(frame, "accept", conversation.pk)

    async def on_send(self, frame: dict[str, Any]) -> None:
        client_id = read_str(frame, "client_id")
        text = read_str(frame, "text", default="")
        pk = read_int(frame, "conversation_id") or 0
        # A watched conversation passed the scope check when it was watched (its shop
        # never changes); whether this agent holds it is checked by message_send.
        conversation_id = pk if pk in self.watching else (await self._conversation(frame)).pk
        message, _created = await db(message_send)(
            conversation_id=conversation_id,
            sender=Message.Sender.AGENT,
            client_id=client_id,
            text=text,
            agent=self.user,
        )
        await self.send_frame(
            with_ref(
                {
                    "type": "ack",
                    "client_id": client_id,
                    "id": message.pk,
                    "seq": message.seq,
                    "conversation_id": conversation_id,
                },
                frame,
            )
        )

    async def on_transfer(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        to_agent_id = read_int(frame, "to_agent_id", required=False)
        to_group_id = read_int(frame, "to_group_id", required=False)
        note = read_str(frame, "note", default="")[:200]

        def transfer() -> None:
            to_agent = to_group = None
            if to_agent_id is not None:
                to_agent = selectors.transfer_agent_for(user=self.user, pk=to_agent_id)
                if to_agent is None:
                    raise ChatError("unknown_agent", _("No such agent."))
            if to_group_id is not None:
                to_group = selectors.transfer_group_for(user=self.user, pk=to_group_id)
                if to_group is None:
                    raise ChatError("unknown_group", _("No such skill group."))
            conversation_transfer(
                conversation_id=conversation.pk,
                actor=self.user,
                to_agent=to_agent,
                to_group=to_group,
                note=note,
            )

        await db(transfer)()
        await self.done(frame, "transfer", conversation.pk)

    async def on_close(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        issue_type_id = read_int(frame, "issue_type_id", required=False)
        summary = read_str(frame, "summary", default="")[:2000]

        def close() -> None:
            issue_type = None
            if issue_type_id is not None:
                issue_type = issue_type_get_active(pk=issue_type_id)
                if issue_type is None:
                    raise ChatError("unknown_issue_type", _("No such issue type."))
            conversation_close(
                conversation_id=conversation.pk,
                actor=self.user,
                issue_type=issue_type,
                summary=summary,
            )

        await db(close)()
        await self.done(frame, "close", conversation.pk)

    async def on_typing(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        if conversation.agent_id == self.user.pk:
            await db(conversation_typing)(conversation=conversation, side=Message.Sender.AGENT)

    async def on_read(self, frame: dict[str, Any]) -> None:
        seq = read_int(frame, "seq") or 0
        conversation = await self._conversation(frame)
        if conversation.agent_id == self.user.pk:
            await db(conversation_mark_read)(
                conversation=conversation, side=Message.Sender.AGENT, seq=seq
            )

    # Channel-layer events.
    async def chat_list(self, event: dict[str, Any]) -> None:
        # What changed: the conversation's row as GET /workbench/api/lists/ shows it.
        await self.send_frame({"type": "list", "conversation": event.get("conversation")})

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_frame({"type": "message", "message": event["message"]})

    async def chat_state(self, event: dict[str, Any]) -> None:
        await self.send_frame({"type": "conversation", "conversation": event["state"]})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["side"] == Message.Sender.CUSTOMER:
            cid = event["conversation_id"]
            await self.send_frame({"type": "typing", "conversation_id": cid, "side": "customer"})

    async def chat_read(self, event: dict[str, Any]) -> None:
        if event["side"] == Message.Sender.CUSTOMER:
            await self.send_frame(
                {
                    "type": "read",
                    "conversation_id": event["conversation_id"],
                    "side": "customer",
                    "seq": event["seq"],
                }
            )

    async def chat_rated(self, event: dict[str, Any]) -> None:
        await self.send_frame(
            {
                "type": "rated",
                "conversation_id": event["conversation_id"],
                "rating": event["rating"],
            }
        )
