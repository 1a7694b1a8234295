"""Writes of live chat: visitors, conversations, messages, routing.

Every state change has one function here; the websocket consumers, HTTP views, Celery
tasks and the admin all call these. Each runs in one transaction and rings doorbells only
through core.realtime.broadcast_on_commit, so nobody hears about an uncommitted change.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentProfile, SkillGroup, User
from commerce.models import Customer
from core.realtime import broadcast_on_commit
from service_orders import services as so
from service_orders.models import IssueType, ServiceOrder, TransferStep
from workbench.errors import ChatError
from workbench.models import ChannelAccount, Conversation, Message, Visitor
from workbench.payloads import conversation_state, message_payload

MAX_TEXT = 4000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "text/plain": (".txt",),
}
# The first bytes each type must start with: the browser's claimed type is not trusted.
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def queue_group(group_id: int) -> str:
    """Agents (and supervisors) whose workbench lists this group's waiting conversations."""
    return f"queue.{group_id}"


def waiting_group(group_id: int) -> str:
    """Customers waiting in this group's queue: they hear when the order of it changes."""
    return f"waiting.{group_id}"


# A queue event lists at most this many waiting conversations; customers further back
# keep the position they last read.
QUEUE_EVENT_LIMIT = 1000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def identity_hash(secret: str, customer_id: str) -> str:
    """What the shop's server computes: hex HMAC-SHA256(secret, customer id)."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


# --- Visitors -----------------------------------------------------------------------------


@dataclass
class VisitorSession:
    visitor: Visitor
    token: str
    identified: bool


def channel_get_active(*, key: str) -> ChannelAccount:
    channel = (
        ChannelAccount.objects.select_related("shop", "default_group")
        .filter(key=key, is_active=True)
        .first()
    )
    if channel is None:
        raise ChatError("unknown_channel", _("This chat channel does not exist or is closed."))
    return channel


@transaction.atomic
def visitor_open(
    *,
    channel: ChannelAccount,
    token: str = "",
    customer_id: str = "",
    customer_hash: str = "",
) -> VisitorSession:
    """Resume the visitor behind `token` or make a new one; identify them if the shop's
    server signed their customer id. Without a valid signature nobody is identified."""
    customer: Customer | None = None
    if customer_id:
        if len(customer_id) > 64 or not channel.identity_secret:
            raise ChatError("identity_invalid", _("Customer identity could not be verified."))
        expected = identity_hash(channel.identity_secret, customer_id)
        if not hmac.compare_digest(expected, customer_hash.lower()):
            raise ChatError("identity_invalid", _("Customer identity could not be verified."))
        customer, _created = Customer.objects.get_or_create(external_id=customer_id)

    visitor = None
    if token:
        visitor = Visitor.objects.filter(token_hash=hash_token(token), channel=channel).first()
    # A different signed-in customer on the same browser gets a fresh visitor: histories of
    # two people are never mixed.
    if (
        visitor is not None
        and customer is not None
        and visitor.customer_id
        not in (
            None,
            customer.pk,
        )
    ):
        visitor = None
    if visitor is None:
        token = secrets.token_urlsafe(32)
        visitor = Visitor.objects.create(
            channel=channel, token_hash=hash_token(token), customer=customer
        )
    elif customer is not None and visitor.customer_id is None:
        visitor.customer = customer
        visitor.save(update_fields=["customer"])
    return VisitorSession(visitor=visitor, token=token, identified=visitor.customer_id is not None)


def visitor_from_token(*, token: str) -> Visitor | None:
    if not token or len(token) > 100:
        return None
    return (
        Visitor.objects.select_related("channel", "channel__shop")
        .filter(token_hash=hash_token(token), channel__is_active=True)
        .first()
    )


# --- Conversations ------------------------------------------------------------------------


def _conv_broadcast(conversation: Conversation, **extra: Any) -> None:
    state = conversation_state(conversation)
    broadcast_on_commit(conversation.group_name(), {"type": "chat.state", "state": state, **extra})


def queue_ids(group_id: int, *, limit: int = QUEUE_EVENT_LIMIT) -> list[int]:
    """The waiting conversations of a group, next first."""
    return list(
        Conversation.objects.filter(group_id=group_id, status=Conversation.Status.QUEUED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _queue_changed(group_id: int) -> None:
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


def _list_doorbell(conversation: Conversation, *, agent_ids: tuple[int | None, ...] = ()) -> None:
    """Workbench lists changed: ring the group's queue and the agents concerned."""
    broadcast_on_commit(queue_group(conversation.group_id), {"type": "chat.list"})
    for agent_id in {a for a in agent_ids if a}:
        broadcast_on_commit(agent_group(agent_id), {"type": "chat.list"})


def _take_seq(conversation_id: int, sender: str, now: Any) -> tuple[int, int | None, bool, int]:
    """Lock the conversation row and hand out its next seq in one statement.

    The UPDATE takes the row lock until commit, so concurrent senders queue here and get
    consecutive numbers; the sender's read marker moves to its own message. Returns
    (seq, holding agent id, whether the first agent response is still to come, visitor id).
    """
    table = connection.ops.quote_name(Conversation._meta.db_table)
    read_column = "agent_read_seq" if sender == Message.Sender.AGENT else "customer_read_seq"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1, last_message_at = %s, "  # noqa: S608 - names are ours
            f"{read_column} = last_seq + 1 WHERE id = %s AND status <> %s "
            # first_response_at itself, not "IS NULL": SQLite 3.40 evaluates that
            # expression wrongly in RETURNING (answers 0 for a NULL column).
            "RETURNING last_seq, agent_id, first_response_at, visitor_id",
            [
                connection.ops.adapt_datetimefield_value(now),
                conversation_id,
                Conversation.Status.CLOSED.value,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        if Conversation.objects.filter(pk=conversation_id).exists():
            raise ChatError("conversation_closed", _("This conversation is closed."))
        raise ChatError("unknown_conversation", _("No such conversation."))
    return int(row[0]), row[1], row[2] is None, int(row[3])


def _system_message(
    conversation: Conversation, text: str, *, client_id: str | None = None
) -> Message:
    """A system line (greeting, transfer notice). Caller holds the conversation lock."""
    conversation.last_seq += 1
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        seq=conversation.last_seq,
        sender=Message.Sender.SYSTEM,
        client_id=client_id,
        text=text,
        created_at=now,
    )
    conversation.last_message_at = now
    conversation.save(update_fields=["last_seq", "last_message_at"])
    broadcast_on_commit(
        conversation.group_name(), {"type": "chat.message", "message": message_payload(message)}
    )
    return message


def conversation_notice(*, conversation_id: int, text: str, key: str) -> tuple[Message, bool]:
    """A system line from elsewhere in Kefu (a resolved ticket), once per key; returns
    (message, created). Unlike message_send it also lands in a closed conversation: the
    history is where the customer looks when they come back to the chat. The key is
    checked under the conversation's row lock, so a retry or a racing twin finds the
    first message instead of adding a second."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        existing = _existing(conversation_id, Message.Sender.SYSTEM, key)
        if existing is not None:
            return existing, False
        return _system_message(conversation, text[:MAX_TEXT], client_id=key), True


def conversation_open_for(*, visitor: Visitor) -> Conversation | None:
    """The visitor's conversation that is not closed yet, if any."""
    return (
        Conversation.objects.filter(visitor=visitor)
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-created_at")
        .first()
    )


def conversation_start(*, visitor: Visitor) -> Conversation:
    """Open a conversation (and its service order) or return the one already open."""
    with transaction.atomic():
        # Serialise starts of one visitor so two tabs cannot open two conversations.
        Visitor.objects.select_for_update().filter(pk=visitor.pk).first()
        existing = conversation_open_for(visitor=visitor)
        if existing is not None:
            return existing
        channel = visitor.channel
        now = timezone.now()
        conversation = Conversation.objects.create(
            channel=channel,
            shop_id=channel.shop_id,
            visitor=visitor,
            customer_id=visitor.customer_id,
            group_id=channel.default_group_id,
            created_at=now,
        )
        so.service_order_create(conversation=conversation)
        so.service_order_add_step(
            conversation=conversation,
            kind=TransferStep.Kind.QUEUED,
            group=channel.default_group,
            at=now,
        )
        if channel.greeting:
            _system_message(conversation, channel.greeting)
        _list_doorbell(conversation)
        _enqueue_routing(conversation.group_id)
    return conversation


def check_text(text: str) -> str:
    if not isinstance(text, str):
        raise ChatError("invalid_text", _("The message text must be a string."))
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise ChatError(
            "too_long", _("A message may have at most %(n)d characters.") % {"n": MAX_TEXT}
        )
    return text


def check_client_id(client_id: str) -> str:
    if not isinstance(client_id, str) or not (1 <= len(client_id) <= 64):
        raise ChatError("invalid_client_id", _("client_id must be a string of 1 to 64 characters."))
    return client_id


def _same_content(message: Message, text: str, attachment: UploadedFile | None) -> bool:
    if message.text != text:
        return False
    if attachment is not None:
        return message.attachment_name == (attachment.name or "")[:200] and (
            message.attachment_size == attachment.size
        )
    return not message.attachment


def _existing(conversation_id: int, sender: str, client_id: str) -> Message | None:
    return Message.objects.filter(
        conversation_id=conversation_id, sender=sender, client_id=client_id
    ).first()


def _replay(message: Message, text: str, attachment: UploadedFile | None) -> Message:
    if not _same_content(message, text, attachment):
        raise ChatError(
            "client_id_reused",
            _("This client_id was already used for a different message."),
        )
    return message


def _visitor_existing(visitor_id: int, client_id: str) -> Message | None:
    return Message.objects.filter(
        visitor_id=visitor_id, sender=Message.Sender.CUSTOMER, client_id=client_id
    ).first()


def visitor_message(*, visitor: Visitor, client_id: str) -> Message | None:
    """The visitor's message with this client id, in any of their conversations."""
    return (
        Message.objects.select_related("conversation")
        .filter(visitor=visitor, sender=Message.Sender.CUSTOMER, client_id=client_id)
        .first()
    )


def check_resend(message: Message, text: str) -> None:
    _replay(message, text.strip(), None)


def check_attachment(upload: UploadedFile) -> str:
    """The attachment's checked content type, or a ChatError saying what is wrong."""
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise ChatError(
            "file_too_large",
            _("Files may be at most %(mb)d MB.") % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
        )
    if upload.size == 0:
        raise ChatError("file_empty", _("The file is empty."))
    name = (upload.name or "").lower()
    for content_type, suffixes in ALLOWED_ATTACHMENT_TYPES.items():
        if name.endswith(suffixes):
            head = upload.read(16)
            upload.seek(0)
            magics = _MAGIC.get(content_type)
            if magics and not head.startswith(magics):
                break
            if content_type == "text/plain" and b"\x00" in head:
                break
            return content_type
    raise ChatError(
        "file_type",
        _("Only images (PNG, JPEG, GIF, WebP), PDF and plain text files can be sent."),
    )


# One statement for a plain text message on PostgreSQL, prepared once per connection:
# lock the conversation and take its next seq, insert the message, in autocommit. Any
# case it does not cover (closed or unknown conversation, not the holder, an agent's first
# response, a resend) returns no row or hits a unique index, changes nothing, and goes
# the general way below, which is the reference for what a send means.
_FAST_SEND_SQL = """
WITH c AS (
    UPDATE workbench_conversation
       SET last_seq = last_seq + 1, last_message_at = %(now)s, {read_column} = last_seq + 1
     WHERE id = %(conversation)s AND status <> 'closed' {holder}
 RETURNING id, last_seq, visitor_id
)
INSERT INTO workbench_message
       (conversation_id, seq, client_id, sender, agent_id, visitor_id, text, attachment,
        attachment_name, attachment_type, attachment_size, created_at)
SELECT c.id, c.last_seq, %(client_id)s, %(sender)s, %(agent)s, {visitor}, %(text)s, '', '', '',
       0, %(now)s
  FROM c
RETURNING id, seq, visitor_id
"""
_FAST_SEND: dict[str, str] = {
    Message.Sender.CUSTOMER: _FAST_SEND_SQL.format(
        read_column="customer_read_seq", holder="", visitor="c.visitor_id"
    ),
    Message.Sender.AGENT: _FAST_SEND_SQL.format(
        read_column="agent_read_seq",
        holder="AND agent_id = %(agent)s AND first_response_at IS NOT NULL",
        visitor="NULL",
    ),
}


def _fast_send(
    conversation_id: int, sender: str, client_id: str, text: str, agent: User | None
) -> Message | None:
    """The stored message, or None when the general path must decide."""
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or sender not in _FAST_SEND
        or (sender == Message.Sender.AGENT and agent is None)
    ):
        return None
    import psycopg

    now = timezone.now()
    params = {
        "now": now,
        "conversation": conversation_id,
        "client_id": client_id,
        "sender": sender,
        "agent": agent.pk if sender == Message.Sender.AGENT and agent is not None else None,
        "text": text,
    }
    connection.ensure_connection()
    try:
        # Django's error wrapper: a broken connection is marked for its health check.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(_FAST_SEND[sender], params, prepare=True)
            row = cursor.fetchone()
    except IntegrityError:
        return None  # a resend: the statement changed nothing
    if row is None:
        return None
    message = Message(
        id=row[0],
        conversation_id=conversation_id,
        seq=row[1],
        client_id=client_id,
        sender=sender,
        agent=agent if sender == Message.Sender.AGENT else None,
        visitor_id=row[2],
        text=text,
        created_at=now,
    )
    message._state.adding = False
    message._state.db = connection.alias
    broadcast_on_commit(
        f"conv.{conversation_id}",
        {
            "type": "chat.message",
            "message": message_payload(message, agent_name=agent.name if agent else ""),
        },
    )
    return message


def message_send(
    *,
    conversation_id: int,
    sender: str,
    client_id: str,
    text: str = "",
    agent: User | None = None,
    attachment: UploadedFile | None = None,
) -> tuple[Message, bool]:
    """Store one message exactly once; returns (message, created).

    The per-conversation seq comes from the conversation row, incremented under its lock in
    this transaction, so seqs have no gaps and no duplicates. Nothing is looked up before:
    a resend is caught by the unique indexes (a customer's client ids across all their
    conversations, anyone else's within the conversation), its transaction rolls back (the
    seq with it) and the stored message is returned. The same client_id with other content
    is an error. Two racing retries: the second waits for the row lock, then its insert
    hits the index and it returns the first one's message.
    """
    client_id = check_client_id(client_id)
    text = check_text(text)
    content_type = check_attachment(attachment) if attachment is not None else ""
    if not text and attachment is None:
        raise ChatError("empty", _("The message is empty."))
    if attachment is None:
        fast = _fast_send(conversation_id, sender, client_id, text, agent)
        if fast is not None:
            return fast, True
    customer = sender == Message.Sender.CUSTOMER
    visitor_id: int | None = None
    try:
        with transaction.atomic():
            now = timezone.now()
            seq, holder_id, awaiting_first_response, visitor_id = _take_seq(
                conversation_id, sender, now
            )
            if sender == Message.Sender.AGENT and (agent is None or holder_id != agent.pk):
                raise ChatError(
                    "not_your_conversation",
                    _("Only the agent holding the conversation can reply."),
                )
            message = Message(
                conversation_id=conversation_id,
                seq=seq,
                client_id=client_id,
                sender=sender,
                agent=agent if sender == Message.Sender.AGENT else None,
                visitor_id=visitor_id if customer else None,
                text=text,
                created_at=now,
            )
            if attachment is not None:
                message.attachment_name = (attachment.name or "")[:200]
                message.attachment_type = content_type
                message.attachment_size = attachment.size or 0
                message.attachment.save(attachment.name or "file", attachment, save=False)
            message.save(force_insert=True)
            if sender == Message.Sender.AGENT and awaiting_first_response:
                Conversation.objects.filter(pk=conversation_id).update(first_response_at=now)
                so.service_order_first_response(conversation_id=conversation_id, at=now)
            agent_name = agent.name if agent is not None else ""
            broadcast_on_commit(
                f"conv.{conversation_id}",
                {
                    "type": "chat.message",
                    "message": message_payload(message, agent_name=agent_name),
                },
            )
    except IntegrityError:
        existing = (
            _visitor_existing(visitor_id, client_id)
            if customer and visitor_id is not None
            else _existing(conversation_id, sender, client_id)
        )
        if existing is None:
            raise
        return _replay(existing, text, attachment), False
    except ChatError as error:
        # A resend of a message stored before the conversation closed gets its original.
        if error.code != "conversation_closed":
            raise
        existing = _existing(conversation_id, sender, client_id)
        if existing is None:
            raise
        return _replay(existing, text, attachment), False
    return message, True


def conversation_mark_read(*, conversation: Conversation, side: str, seq: int) -> None:
    """Move a side's read marker forward (never back) and tell the other side."""
    field = "agent_read_seq" if side == Message.Sender.AGENT else "customer_read_seq"
    with transaction.atomic():
        updated = Conversation.objects.filter(
            Q(**{f"{field}__lt": seq}), pk=conversation.pk, last_seq__gte=seq
        ).update(**{field: seq})
        if updated:
            broadcast_on_commit(
                conversation.group_name(),
                {
                    "type": "chat.read",
                    "conversation_id": conversation.pk,
                    "side": side,
                    "seq": seq,
                },
            )


def conversation_typing(*, conversation: Conversation, side: str) -> None:
    """Typing is a passing signal: nothing is stored."""
    broadcast_on_commit(
        conversation.group_name(),
        {"type": "chat.typing", "conversation_id": conversation.pk, "side": side},
    )


def _lock_open(conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("agent")
        .get(pk=conversation_id)
    )
    if conversation.status == Conversation.Status.CLOSED:
        raise ChatError("conversation_closed", _("This conversation is closed."))
    return conversation


def _assign(
    conversation: Conversation, agent: User, *, kind: str, actor: User | None, note: str = ""
) -> None:
    now = timezone.now()
    previous = conversation.agent_id
    was_queued = conversation.status == Conversation.Status.QUEUED
    conversation.agent = agent
    conversation.status = Conversation.Status.ACTIVE
    fields = ["agent", "status"]
    if conversation.accepted_at is None:
        conversation.accepted_at = now
        fields.append("accepted_at")
    conversation.save(update_fields=fields)
    so.service_order_add_step(
        conversation=conversation, kind=kind, agent=agent, actor=actor, note=note, at=now
    )
    _conv_broadcast(conversation)
    _list_doorbell(conversation, agent_ids=(agent.pk, previous))
    if was_queued:
        _queue_changed(conversation.group_id)


def conversation_accept(*, conversation_id: int, agent: User) -> Conversation:
    """An agent picks a waiting conversation from the queue (manual pickup)."""
    with transaction.atomic():
        conversation = _lock_open(conversation_id)
        if conversation.status != Conversation.Status.QUEUED:
            raise ChatError("already_taken", _("Another agent already took this conversation."))
        # The seat lock serialises every assignment to this agent (see queue_drain).
        AgentProfile.objects.select_for_update().get_or_create(user=agent)
        _assign(conversation, agent, kind=TransferStep.Kind.ACCEPTED, actor=agent)
    return conversation


def conversation_transfer(
    *,
    conversation_id: int,
    actor: User,
    to_agent: User | None = None,
    to_group: SkillGroup | None = None,
    note: str = "",
) -> Conversation:
    """Hand a conversation to another agent directly, or back to a group's queue."""
    if (to_agent is None) == (to_group is None):
        raise ChatError("transfer_target", _("Transfer to exactly one agent or one group."))
    with transaction.atomic():
        conversation = _lock_open(conversation_id)
        previous = conversation.agent_id
        if to_agent is not None:
            if to_agent.pk == previous:
                raise ChatError("transfer_target", _("The conversation is already theirs."))
            AgentProfile.objects.select_for_update().get_or_create(user=to_agent)
            _assign(
                conversation, to_agent, kind=TransferStep.Kind.TRANSFERRED, actor=actor, note=note
            )
            _system_message(
                conversation,
                _("Transferred to %(name)s.") % {"name": to_agent.name},
            )
        else:
            assert to_group is not None
            old_group = conversation.group_id
            was_queued = conversation.status == Conversation.Status.QUEUED
            conversation.group = to_group
            conversation.agent = None
            conversation.status = Conversation.Status.QUEUED
            conversation.save(update_fields=["group", "agent", "status"])
            so.service_order_add_step(
                conversation=conversation,
                kind=TransferStep.Kind.TRANSFERRED,
                group=to_group,
                actor=actor,
                note=note,
                at=timezone.now(),
            )
            _system_message(
                conversation, _("Transferred to %(group)s. Please wait.") % {"group": to_group.name}
            )
            _conv_broadcast(conversation)
            _list_doorbell(conversation, agent_ids=(previous,))
            broadcast_on_commit(queue_group(old_group), {"type": "chat.list"})
            if was_queued and old_group != to_group.pk:
                _queue_changed(old_group)
            _queue_changed(to_group.pk)
            _enqueue_routing(to_group.pk)
        if previous:
            _enqueue_drain_for_agent(previous)
    return conversation


def conversation_close(
    *,
    conversation_id: int,
    actor: User | None,
    issue_type: IssueType | None = None,
    summary: str = "",
) -> Conversation:
    with transaction.atomic():
        conversation = _lock_open(conversation_id)
        now = timezone.now()
        agent_id = conversation.agent_id
        was_queued = conversation.status == Conversation.Status.QUEUED
        conversation.status = Conversation.Status.CLOSED
        conversation.closed_at = now
        conversation.save(update_fields=["status", "closed_at"])
        so.service_order_close(
            conversation=conversation,
            at=now,
            actor=actor,
            issue_type=issue_type,
            summary=summary[:2000],
        )
        _conv_broadcast(conversation)
        _list_doorbell(conversation, agent_ids=(agent_id,))
        if was_queued:
            _queue_changed(conversation.group_id)
        if agent_id:
            _enqueue_drain_for_agent(agent_id)
    return conversation


def conversation_rate(
    *, conversation: Conversation, rating: Any, comment: str = ""
) -> ServiceOrder:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ChatError("invalid_rating", _("The rating must be a whole number from 1 to 5."))
    if not isinstance(comment, str) or len(comment) > 1000:
        raise ChatError("invalid_comment", _("The comment may have at most 1000 characters."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status != Conversation.Status.CLOSED:
            raise ChatError("not_closed", _("A conversation can be rated once it is closed."))
        order = so.service_order_rate(conversation=locked, rating=rating, comment=comment.strip())
        broadcast_on_commit(
            locked.group_name(),
            {"type": "chat.rated", "conversation_id": locked.pk, "rating": rating},
        )
    return order


# --- Routing ------------------------------------------------------------------------------


def _enqueue_routing(group_id: int) -> None:
    from workbench.tasks import drain_queue

    transaction.on_commit(lambda: drain_queue.delay(group_id))


def _enqueue_drain_for_agent(user_id: int) -> None:
    from workbench.tasks import drain_queues_of_agent

    transaction.on_commit(lambda: drain_queues_of_agent.delay(user_id))


def _active_load() -> Subquery:
    return Subquery(
        Conversation.objects.filter(agent_id=OuterRef("user_id"), status=Conversation.Status.ACTIVE)
        .order_by()
        .values("agent_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )


def agent_load(user_id: int) -> int:
    return Conversation.objects.filter(agent_id=user_id, status=Conversation.Status.ACTIVE).count()


def _pick_agent(group: SkillGroup) -> User | None:
    """Lock and return the online member under capacity with the fewest active
    conversations. Seats locked by another router are skipped, not waited for; after the
    lock the load is counted again (the first count may predate a commit that happened
    while we were locking), so an agent is never put over capacity."""
    candidates = (
        AgentProfile.objects.filter(
            user__group_memberships__group=group,
            user__is_active=True,
            state=AgentProfile.State.ONLINE,
        )
        .annotate(load=Coalesce(_active_load(), Value(0)))
        .filter(load__lt=F("max_concurrent"))
        .order_by("load", "state_changed_at", "pk")
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
    )
    for profile in candidates[:5]:
        if agent_load(profile.user_id) < profile.max_concurrent:
            return profile.user
    return None


def queue_position(conversation: Conversation) -> int | None:
    if conversation.status != Conversation.Status.QUEUED:
        return None
    # The order of queue_ids and queue_drain: by start time, then id.
    ahead = (
        Conversation.objects.filter(
            group_id=conversation.group_id, status=Conversation.Status.QUEUED
        )
        .filter(
            Q(created_at__lt=conversation.created_at)
            | Q(created_at=conversation.created_at, pk__lt=conversation.pk)
        )
        .count()
    )
    return ahead + 1


def queue_drain(*, group_id: int, limit: int = 50) -> int:
    """Give waiting conversations of a group to free agents, oldest first. Safe to run any
    number of times, concurrently: each assignment is one transaction holding the
    conversation's row lock and the agent's seat lock. Returns how many were assigned."""
    assigned = 0
    for _round in range(limit):
        with transaction.atomic():
            group = SkillGroup.objects.filter(pk=group_id, is_active=True).first()
            if group is None:
                return assigned
            conversation = (
                Conversation.objects.select_for_update(skip_locked=True)
                .filter(group_id=group_id, status=Conversation.Status.QUEUED)
                .order_by("created_at", "pk")
                .first()
            )
            if conversation is None:
                return assigned
            agent = _pick_agent(group)
            if agent is None:
                return assigned
            _assign(conversation, agent, kind=TransferStep.Kind.ROUTED, actor=None)
            assigned += 1
    return assigned


def queue_drain_for_agent(*, user_id: int) -> int:
    group_ids = list(
        SkillGroup.objects.filter(memberships__user_id=user_id, is_active=True).values_list(
            "pk", flat=True
        )
    )
    return sum(queue_drain(group_id=gid) for gid in group_ids)


def queue_drain_all() -> int:
    """Drain every group that has someone waiting: the periodic safety net behind the
    on-commit routing tasks (a lost task or a crashed worker delays, never strands)."""
    group_ids = (
        Conversation.objects.filter(status=Conversation.Status.QUEUED)
        .order_by()
        .values_list("group_id", flat=True)
        .distinct()
    )
    return sum(queue_drain(group_id=gid) for gid in list(group_ids))
