"""Websocket consumers of live chat: thin. Validate the frame, call a service through
core.async_db.db, answer. The protocol is documented in docs/realtime.md."""

from __future__ import annotations

import json
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from agents.models import User
from agents.sections import SECTIONS_BY_KEY, user_may_enter
from core.async_db import db
from service_orders.models import IssueType
from workbench import selectors, services
from workbench.errors import ChatError
from workbench.models import Conversation, Message, Visitor
from workbench.payloads import conversation_state, message_payload

MAX_FRAME_BYTES = 16 * 1024
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class BadFrame(ChatError):
    pass


def _int(frame: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = frame.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadFrame("bad_frame", _("%(key)s must be a whole number.") % {"key": key})
    return value


def _str(frame: dict[str, Any], key: str, *, default: str | None = None) -> str:
    value = frame.get(key, default)
    if not isinstance(value, str):
        raise BadFrame("bad_frame", _("%(key)s must be a string.") % {"key": key})
    return value


class FrameConsumer(AsyncWebsocketConsumer):
    """JSON frames with a size cap, a `type` dispatch and error frames for everything bad."""

    handlers: dict[str, str] = {}

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first hops to Django's single thread-sensitive worker to
        # close stale connections, for every frame and every doorbell, even those that
        # never touch the database. These consumers reach the database only through
        # core.async_db.db, which looks after its connections itself, so the hop goes.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(self, error: ChatError, frame: dict[str, Any] | None = None) -> None:
        out: dict[str, Any] = {"type": "error", "code": error.code, "message": error.message}
        if isinstance(frame, dict):
            for key in ("ref", "client_id"):
                if isinstance(frame.get(key), str | int):
                    out[key] = frame[key]
        await self.send_frame(out)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_error(ChatError("bad_frame", _("Only JSON text frames are accepted.")))
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error(
                ChatError("frame_too_large", _("Frames may be at most 16384 bytes."))
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error(ChatError("bad_json", _("The frame is not valid JSON.")))
            return
        if not isinstance(frame, dict):
            await self.send_error(ChatError("bad_frame", _("A frame must be a JSON object.")))
            return
        kind = frame.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if not await self.allow(kind):
            return
        if handler is None:
            await self.send_error(ChatError("unknown_type", _("Unknown frame type.")), frame)
            return
        try:
            await getattr(self, handler)(frame)
        except ChatError as error:
            await self.send_error(error, frame)

    async def allow(self, kind: Any) -> bool:
        """A hook to refuse frames by state (e.g. before authentication)."""
        return True

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)

    async def leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        if group in self.groups:
            self.groups.remove(group)


def _with_ref(out: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """Echo the request's `ref`, as docs/realtime.md promises for every direct answer."""
    if isinstance(frame.get("ref"), str | int):
        out["ref"] = frame["ref"]
    return out


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


def _state_for_customer(conversation: Conversation) -> dict[str, Any]:
    rating = None
    if conversation.status == Conversation.Status.CLOSED:
        rating = (
            conversation.service_order.rating if hasattr(conversation, "service_order") else None
        )
    return conversation_state(
        conversation, queue_position=services.queue_position(conversation), rating=rating
    )


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

    visitor: Visitor | None = None
    conversation: Conversation | None = None
    # The queue position last sent to this customer (None: not waiting).
    position: int | None = None

    async def connect(self) -> None:
        self.groups: list[str] = []
        await self.accept()

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
                wanted.add(services.waiting_group(conversation.group_id))
        for group in [g for g in self.groups if g not in wanted]:
            await self.leave(group)
        for group in sorted(wanted - set(self.groups)):
            await self.join(group)
        self.conversation = conversation

    async def on_hello(self, frame: dict[str, Any]) -> None:
        if self.visitor is not None:
            raise BadFrame("bad_frame", _("hello was already sent."))
        token = _str(frame, "visitor_token", default="")
        after_seq = _int(frame, "after_seq", required=False) or 0
        known_id = _int(frame, "conversation_id", required=False)
        visitor = await db(services.visitor_from_token)(token=token)
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
                _state_for_customer(conversation),
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

    async def on_send(self, frame: dict[str, Any]) -> None:
        assert self.visitor is not None
        client_id = _str(frame, "client_id")
        text = _str(frame, "text", default="")
        visitor = self.visitor

        def send() -> tuple[Conversation, Message, dict[str, Any] | None]:
            # Validate before starting a conversation, so a bad frame starts nothing.
            services.check_client_id(client_id)
            if not services.check_text(text):
                raise ChatError("empty", _("The message is empty."))
            # The followed conversation is kept current by chat.state events: while it is
            # open the message goes straight in (a resend is caught by the unique index,
            # across all the visitor's conversations). Only without one is the database
            # asked which conversation to use, or whether to start one.
            known = self.conversation
            candidates = [known] if known is not None and known.status != "closed" else []
            for attempt in [*candidates, None]:
                new_state = None
                if attempt is None:
                    # A resend whose first attempt landed in a conversation closed since
                    # then is answered with the original, and starts nothing.
                    earlier = services.visitor_message(visitor=visitor, client_id=client_id)
                    if earlier is not None:
                        services.check_resend(earlier, text)
                        return earlier.conversation, earlier, None
                conversation = attempt or services.conversation_open_for(visitor=visitor)
                if conversation is None:
                    conversation = services.conversation_start(visitor=visitor)
                    conversation.refresh_from_db()
                    new_state = _state_for_customer(conversation)
                try:
                    message, _created = services.message_send(
                        conversation_id=conversation.pk,
                        sender=Message.Sender.CUSTOMER,
                        client_id=client_id,
                        text=text,
                    )
                except ChatError as error:
                    # Closed while our copy said open (a missed doorbell): look again.
                    if error.code == "conversation_closed" and attempt is not None:
                        continue
                    raise
                if message.conversation_id != conversation.pk:
                    # A resend first stored in an earlier conversation.
                    return message.conversation, message, None
                return conversation, message, new_state
            raise ChatError("conversation_closed", _("This conversation is closed."))

        conversation, message, new_state = await db(send)()
        switched = self.conversation is None or (
            self.conversation.pk != conversation.pk and conversation.status != "closed"
        )
        if switched:
            await self._follow(conversation)
            if new_state is not None:
                self.position = new_state["queue_position"]
                await self.send_frame({"type": "conversation", "conversation": new_state})
        await self.send_frame(
            {
                "type": "ack",
                "client_id": client_id,
                "id": message.pk,
                "seq": message.seq,
                "conversation_id": message.conversation_id,
            }
        )

    def _current(self) -> Conversation:
        if self.conversation is None:
            raise ChatError("unknown_conversation", _("No conversation yet."))
        return self.conversation

    async def on_sync(self, frame: dict[str, Any]) -> None:
        after_seq = _int(frame, "after_seq") or 0
        out = await db(_messages_frame)(self._current(), after_seq)
        await self.send_frame(_with_ref(out, frame))

    async def on_typing(self, frame: dict[str, Any]) -> None:
        await db(services.conversation_typing)(
            conversation=self._current(), side=Message.Sender.CUSTOMER
        )

    async def on_read(self, frame: dict[str, Any]) -> None:
        seq = _int(frame, "seq") or 0
        await db(services.conversation_mark_read)(
            conversation=self._current(), side=Message.Sender.CUSTOMER, seq=seq
        )

    async def on_rate(self, frame: dict[str, Any]) -> None:
        comment = _str(frame, "comment", default="")
        order = await db(services.conversation_rate)(
            conversation=self._current(), rating=frame.get("rating"), comment=comment
        )
        await self.send_frame({"type": "rated", "rating": order.rating})

    # Channel-layer events (see workbench.services).
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
            return conversation, _state_for_customer(conversation)

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


class AgentConsumer(FrameConsumer):
    """An agent's workbench socket (session-authenticated)."""

    handlers = {
        "watch": "on_watch",
        "unwatch": "on_unwatch",
        "accept": "on_accept",
        "send": "on_send",
        "transfer": "on_transfer",
        "close": "on_close",
        "typing": "on_typing",
        "read": "on_read",
    }
    user: User

    async def connect(self) -> None:
        self.groups: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        allowed = await db(user_may_enter)(user, SECTIONS_BY_KEY["workbench"])
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.watching: set[int] = set()
        group_ids = await db(self._queue_ids)()
        await self.accept()
        await self.join(services.agent_group(user.pk))
        for group_id in group_ids:
            await self.join(services.queue_group(group_id))
        await self.send_frame({"type": "welcome", "user_id": user.pk})

    def _queue_ids(self) -> list[int]:
        # Every group whose waiting list this agent sees (supervisors: all in scope).
        return [g.pk for g in selectors.queue_groups_for(user=self.user)]

    async def _conversation(self, frame: dict[str, Any]) -> Conversation:
        pk = _int(frame, "conversation_id") or 0

        def load() -> Conversation | None:
            return selectors.conversation_list_for(user=self.user).filter(pk=pk).first()

        conversation = await db(load)()
        if conversation is None:
            raise ChatError("unknown_conversation", _("No such conversation."))
        return conversation

    async def done(self, frame: dict[str, Any], action: str, conversation_id: int) -> None:
        out: dict[str, Any] = {"type": "done", "action": action, "conversation_id": conversation_id}
        await self.send_frame(_with_ref(out, frame))

    async def on_watch(self, frame: dict[str, Any]) -> None:
        after_seq = _int(frame, "after_seq", required=False) or 0
        conversation = await self._conversation(frame)
        group = conversation.group_name()
        if conversation.pk not in self.watching:
            await self.join(group)
            self.watching.add(conversation.pk)
        out = await db(_messages_frame)(conversation, after_seq)
        await self.send_frame(_with_ref(out, frame))

    async def on_unwatch(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        if conversation.pk in self.watching:
            self.watching.discard(conversation.pk)
            await self.leave(conversation.group_name())
        await self.done(frame, "unwatch", conversation.pk)

    async def on_accept(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        await db(services.conversation_accept)(conversation_id=conversation.pk, agent=self.user)
        await self.done(frame, "accept", conversation.pk)

    async def on_send(self, frame: dict[str, Any]) -> None:
        client_id = _str(frame, "client_id")
        text = _str(frame, "text", default="")
        pk = _int(frame, "conversation_id") or 0
        # A watched conversation passed the scope check when it was watched (its shop
        # never changes); whether this agent holds it is checked by message_send.
        conversation_id = pk if pk in self.watching else (await self._conversation(frame)).pk
        message, _created = await db(services.message_send)(
            conversation_id=conversation_id,
            sender=Message.Sender.AGENT,
            client_id=client_id,
            text=text,
            agent=self.user,
        )
        await self.send_frame(
            {
                "type": "ack",
                "client_id": client_id,
                "id": message.pk,
                "seq": message.seq,
                "conversation_id": conversation_id,
            }
        )

    async def on_transfer(self, frame: dict[str, Any]) -> None:
        conversation = await self._conversation(frame)
        to_agent_id = _int(frame, "to_agent_id", required=False)
        to_group_id = _int(frame, "to_group_id", required=False)
        note = _str(frame, "note", default="")[:200]

        def transfer() -> None:
            to_agent = to_group = None
            if to_agent_id is not None:
                to_agent = selectors.transfer_agent_for(user=self.user, pk=to_agent_id)
                if to_agent is None or not _may_hold(to_agent, conversation):
                    raise ChatError("unknown_agent", _("No such agent."))
            if to_group_id is not None:
                to_group = selectors.transfer_group_for(user=self.user, pk=to_group_id)
                if to_group is None or to_group.shop_id not in (None, conversation.shop_id):
                    raise ChatError("unknown_group", _("No such skill group."))
            services.conversation_transfer(
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
        issue_type_id = _int(frame, "issue_type_id", required=False)
        summary = _str(frame, "summary", default="")[:2000]

        def close() -> None:
            issue_type = None
            if issue_type_id is not None:
                issue_type = IssueType.objects.filter(pk=issue_type_id, is_active=True).first()
                if issue_type is None:
                    raise ChatError("unknown_issue_type", _("No such issue type."))
            if conversation.agent_id not in (None, self.user.pk) and not _supervises(self.user):
                raise ChatError(
                    "not_your_conversation", _("Only the agent holding it can close it.")
                )
            services.conversation_close(
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
            await db(services.conversation_typing)(
                conversation=conversation, side=Message.Sender.AGENT
            )

    async def on_read(self, frame: dict[str, Any]) -> None:
        seq = _int(frame, "seq") or 0
        conversation = await self._conversation(frame)
        if conversation.agent_id == self.user.pk:
            await db(services.conversation_mark_read)(
                conversation=conversation, side=Message.Sender.AGENT, seq=seq
            )

    # Channel-layer events.
    async def chat_list(self, event: dict[str, Any]) -> None:
        await self.send_frame({"type": "list"})

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


def _supervises(user: User) -> bool:
    from agents.capabilities import may

    return may(user, "supervise")


def _may_hold(agent: User, conversation: Conversation) -> bool:
    """A transfer target must be able to see the conversation (a merchant agent of another
    shop never receives it)."""
    from agents.access import can_see_shop

    if conversation.shop_id is None:
        from agents.access import scope_for

        return scope_for(agent).all_shops
    return can_see_shop(agent, conversation.shop_id)
