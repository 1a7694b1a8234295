"""Messages: stored exactly once with a gapless per-conversation seq; read markers; typing.

`message_send` is the one way a message is written. On PostgreSQL a plain text message
takes a fast path of one prepared statement (docs/decisions/0002-chat-fast-send-path.md);
everything else, and everything the fast path does not cover, goes the general way, which
is the reference for what a send means. workbench/tests/test_send_paths_agree.py holds
the two to the same rows, counters and doorbells.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import User
from core import ratelimits
from core.realtime import broadcast_on_commit
from service_orders import services as so
from workbench.errors import ChatError
from workbench.models import Conversation, Message
from workbench.services.doorbells import ring_message

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

Sender = Message.Sender
# The unique indexes that make a send idempotent: a violation of one of these is a resend.
# Any other integrity error (a seq taken twice, a NOT NULL column) is a bug and is raised.
RESEND_CONSTRAINTS = frozenset(
    {
        "message_unique_client_id",
        "message_unique_visitor_client_id",
    }
)
assert {c.name for c in Message._meta.constraints} >= RESEND_CONSTRAINTS


# --- Checks -------------------------------------------------------------------------------


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


def _same_content(message: Message, text: str, attachment: UploadedFile | None) -> bool:
    if message.text != text:
        return False
    if attachment is not None:
        return message.attachment_name == (attachment.name or "")[:200] and (
            message.attachment_size == attachment.size
        )
    return not message.attachment


def replay(message: Message, text: str, attachment: UploadedFile | None) -> Message:
    """A resend gets the stored message back; the same client id with other content is
    an error."""
    if not _same_content(message, text, attachment):
        raise ChatError(
            "client_id_reused",
            _("This client_id was already used for a different message."),
        )
    return message


def existing_message(conversation_id: int, sender: str, client_id: str) -> Message | None:
    return Message.objects.filter(
        conversation_id=conversation_id, sender=sender, client_id=client_id
    ).first()


def _visitor_existing(visitor_id: int, client_id: str) -> Message | None:
    return Message.objects.filter(
        visitor_id=visitor_id, sender=Sender.CUSTOMER, client_id=client_id
    ).first()


def is_resend(error: IntegrityError) -> bool:
    """Whether the failed insert hit one of the client-id indexes. PostgreSQL names the
    constraint; elsewhere (SQLite) the stored message is looked up and decides."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is None:
        return True
    return diag.constraint_name in RESEND_CONSTRAINTS


# --- System lines -------------------------------------------------------------------------


def message_system(
    conversation: Conversation, text: str, *, client_id: str | None = None
) -> Message:
    """A system line (greeting, transfer notice). Caller holds the conversation lock."""
    conversation.last_seq += 1
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        seq=conversation.last_seq,
        sender=Sender.SYSTEM,
        client_id=client_id,
        text=text,
        created_at=now,
    )
    conversation.last_message_at = now
    conversation.save(update_fields=["last_seq", "last_message_at"])
    ring_message(message)
    return message


# --- Sending: the fast path ---------------------------------------------------------------


def _column(model: Any, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


# The message fields the fast statement fills from the locked conversation row or from
# the call; every other column gets its field's default (_fast_send_defaults).
_FAST_SEND_FILLS = frozenset(
    {"conversation", "seq", "client_id", "sender", "agent", "visitor", "text", "created_at"}
)


@cache
def _fast_send_sql(sender: str) -> str:
    """One statement for a plain text message on PostgreSQL, prepared once per connection:
    lock the conversation and take its next seq, insert the message, in autocommit. Any
    case it does not cover (closed or unknown conversation, not the holder, an agent's
    first response, a resend) returns no row or hits a unique index, changes nothing, and
    goes the general way, which is the reference for what a send means.

    Table and column names come from the models' _meta, so a renamed column or table
    follows; a column the statement does not set gets its field's default, and a new
    NOT NULL column without one fails the insert loudly instead of being skipped."""
    q = connection.ops.quote_name

    def c(name: str) -> str:
        return _column(Conversation, name)

    agent = sender == Sender.AGENT
    read_column = c("agent_read_seq" if agent else "customer_read_seq")
    holder = f" AND {c('agent')} = %(agent)s AND {c('first_response_at')} IS NOT NULL"
    values = {
        "conversation": f"c.{c('id')}",
        "seq": f"c.{c('last_seq')}",
        "client_id": "%(client_id)s",
        "sender": "%(sender)s",
        "agent": "%(agent)s",
        "visitor": "NULL" if agent else f"c.{c('visitor')}",
        "text": "%(text)s",
        "created_at": "%(now)s",
    }
    assert set(values) == _FAST_SEND_FILLS
    fields = _fast_send_fields()
    columns = ", ".join(q(f.column) for f in fields)
    selects = ", ".join(values.get(f.name, f"%(default_{f.attname})s") for f in fields)
    return (
        f"WITH c AS (UPDATE {q(Conversation._meta.db_table)}"  # noqa: S608 - names from _meta
        f" SET {c('last_seq')} = {c('last_seq')} + 1, {c('last_message_at')} = %(now)s,"
        f" {read_column} = {c('last_seq')} + 1"
        f" WHERE {c('id')} = %(conversation)s AND {c('status')} <> %(closed)s"
        f"{holder if agent else ''}"
        f" RETURNING {c('id')}, {c('last_seq')}, {c('visitor')})"
        f" INSERT INTO {q(Message._meta.db_table)} ({columns})"
        f" SELECT {selects} FROM c"
        f" RETURNING {_column(Message, 'id')}, {_column(Message, 'seq')},"
        f" {_column(Message, 'visitor')}"
    )


def _fast_send_fields() -> list[Any]:
    return [f for f in Message._meta.concrete_fields if not f.primary_key]


def _fast_send_defaults() -> dict[str, Any]:
    """The defaults of the columns the statement does not fill, evaluated per call (a
    default may be a callable)."""
    return {
        f"default_{field.attname}": field.get_db_prep_save(field.get_default(), connection)
        for field in _fast_send_fields()
        if field.name not in _FAST_SEND_FILLS
    }


def _log_query(sql: str, params: dict[str, Any], started: float) -> None:
    # The statement runs on psycopg's own cursor (Django's binds client-side, which cannot
    # prepare): record it as Django's debug cursor would, so query counts and logs see it.
    if connection.queries_logged:
        shown = sql % {key: repr(value) for key, value in params.items()}
        duration = time.monotonic() - started
        connection.queries_log.append({"sql": shown, "time": f"{duration:.3f}"})


def _fast_send(
    conversation_id: int, sender: str, client_id: str, text: str, agent: User | None
) -> Message | None:
    """The stored message, or None when the general path must decide."""
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or sender not in (Sender.CUSTOMER, Sender.AGENT)
        or (sender == Sender.AGENT and agent is None)
    ):
        return None
    import psycopg

    now = timezone.now()
    params = {
        **_fast_send_defaults(),
        "now": now,
        "conversation": conversation_id,
        "closed": Conversation.Status.CLOSED.value,
        "client_id": client_id,
        "sender": sender,
        "agent": agent.pk if sender == Sender.AGENT and agent is not None else None,
        "text": text,
    }
    sql = _fast_send_sql(sender)
    connection.ensure_connection()
    started = time.monotonic()
    try:
        # Django's error wrapper: a broken connection is marked for its health check.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, prepare=True)
            row = cursor.fetchone()
    except IntegrityError as error:
        if not is_resend(error):
            raise
        return None  # a resend: the statement changed nothing
    finally:
        _log_query(sql, params, started)
    if row is None:
        return None
    message = Message(
        id=row[0],
        conversation_id=conversation_id,
        seq=row[1],
        client_id=client_id,
        sender=sender,
        agent=agent if sender == Sender.AGENT else None,
        visitor_id=row[2],
        text=text,
        created_at=now,
    )
    message._state.adding = False
    message._state.db = connection.alias
    ring_message(message, agent_name=agent.name if agent else "")
    return message


# --- Sending: the general path ------------------------------------------------------------


def _take_seq(conversation_id: int, sender: str, now: Any) -> tuple[int, int | None, bool, int]:
    """Lock the conversation row and hand out its next seq in one statement.

    The UPDATE takes the row lock until commit, so concurrent senders queue here and get
    consecutive numbers; the sender's read marker moves to its own message. Returns
    (seq, holding agent id, whether the first agent response is still to come, visitor id).
    """
    table = connection.ops.quote_name(Conversation._meta.db_table)
    col = lambda name: _column(Conversation, name)  # noqa: E731
    read_column = col("agent_read_seq" if sender == Sender.AGENT else "customer_read_seq")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {col('last_seq')} = {col('last_seq')} + 1, "  # noqa: S608 - names are ours
            f"{col('last_message_at')} = %s, {read_column} = {col('last_seq')} + 1 "
            f"WHERE {col('id')} = %s AND {col('status')} <> %s "
            # first_response_at itself, not "IS NULL": SQLite 3.40 evaluates that
            # expression wrongly in RETURNING (answers 0 for a NULL column).
            f"RETURNING {col('last_seq')}, {col('agent')}, {col('first_response_at')}, "
            f"{col('visitor')}",
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
    if attachment is not None and agent is not None:
        # Staff files count per user (customers' in visitor_message_send).
        ratelimits.user_uploading(user_id=agent.pk, size=attachment.size or 0)
    if attachment is None:
        fast = _fast_send(conversation_id, sender, client_id, text, agent)
        if fast is not None:
            return fast, True
    customer = sender == Sender.CUSTOMER
    visitor_id: int | None = None
    try:
        with transaction.atomic():
            now = timezone.now()
            seq, holder_id, awaiting_first_response, visitor_id = _take_seq(
                conversation_id, sender, now
            )
            if sender == Sender.AGENT and (agent is None or holder_id != agent.pk):
                raise ChatError(
                    "not_your_conversation",
                    _("Only the agent holding the conversation can reply."),
                )
            message = Message(
                conversation_id=conversation_id,
                seq=seq,
                client_id=client_id,
                sender=sender,
                agent=agent if sender == Sender.AGENT else None,
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
            if sender == Sender.AGENT and awaiting_first_response:
                Conversation.objects.filter(pk=conversation_id).update(first_response_at=now)
                so.service_order_first_response(conversation_id=conversation_id, at=now)
            ring_message(message, agent_name=agent.name if agent is not None else "")
    except IntegrityError as error:
        if not is_resend(error):
            raise
        existing = (
            _visitor_existing(visitor_id, client_id)
            if customer and visitor_id is not None
            else existing_message(conversation_id, sender, client_id)
        )
        if existing is None:
            raise
        return replay(existing, text, attachment), False
    except ChatError as error:
        # A resend of a message stored before the conversation closed gets its original.
        if error.code != "conversation_closed":
            raise
        existing = existing_message(conversation_id, sender, client_id)
        if existing is None:
            raise
        return replay(existing, text, attachment), False
    return message, True


# --- Read markers and typing --------------------------------------------------------------


def conversation_mark_read(*, conversation: Conversation, side: str, seq: int) -> None:
    """Move a side's read marker forward (never back) and tell the other side."""
    field = "agent_read_seq" if side == Sender.AGENT else "customer_read_seq"
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
