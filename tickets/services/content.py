"""What a ticket says: edits, replies to the customer, internal comments, attachments and
who watches it. None of these moves the ticket through its states."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import User
from core import ratelimits
from settings_app.selectors import group_calendar_spec
from tickets.fields import clean_answers
from tickets.models import Priority, Ticket, TicketAttachment, TicketCategory, TicketNode
from tickets.services import sla
from tickets.services.errors import InvalidTransitionError, TicketError
from tickets.services.notifications import (
    customer_email,
    ticket_event_emit,
    ticket_ring,
    watcher_ids,
)
from tickets.services.state import (
    A,
    check_transition,
    node_add,
    require_work,
    save_versioned,
    ticket_title_clean,
)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".zip": "application/zip",
}


def ticket_reply(
    *, ticket: Ticket, actor: User, text: str, version: int | None = None
) -> TicketNode:
    """A reply meant for the customer; emailed when the ticket's customer has an address."""
    check_transition(ticket, A.REPLY)
    require_work(actor, ticket)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the reply first.")})
    now = timezone.now()
    with transaction.atomic():
        fields = []
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            sla.refresh_derived(ticket, group_calendar_spec(ticket.group_id), now)
            fields = ["first_response_at", *sla.SLA_FIELDS]
        save_versioned(ticket, fields, version=version)
        node = ticket_event_emit("ticket.commented", ticket, node_add(ticket, A.REPLY, actor, text))
        customer_email(ticket, text)
    return node


def ticket_comment(*, ticket: Ticket, actor: User, text: str) -> TicketNode:
    """An internal note. Comments only add; they never conflict, so no version check."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the comment first.")})
    with transaction.atomic():
        ticket.updated_at = timezone.now()
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=ticket.updated_at)
        node = ticket_event_emit(
            "ticket.commented", ticket, node_add(ticket, A.COMMENT, actor, text)
        )
        ticket_ring(ticket, ticket.assignee_id)
    return node


def ticket_update(
    *,
    ticket: Ticket,
    actor: User,
    version: int | None = None,
    title: str | None = None,
    description: str | None = None,
    priority: str | None = None,
    category: TicketCategory | None = None,
    answers: dict[str, Any] | None = None,
) -> Ticket:
    """Edit what the ticket says (None leaves a field as it is). Answers merge into the
    stored ones (a None value clears one) and are validated against the type again. A new
    priority re-applies the matching SLA policy. The node lists what changed."""
    require_work(actor, ticket)
    if not ticket.is_open:
        raise InvalidTransitionError(_("Reopen the ticket to edit it."))
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = ticket_title_clean(title)
    if description is not None:
        changes["description"] = description.strip()
    if priority is not None:
        if priority not in Priority.values:
            raise TicketError(_("Unknown priority."))
        changes["priority"] = priority
    if category is not None:
        changes["category"] = category
    if answers is not None:
        merged = {**ticket.answers, **answers}
        changes["answers"] = clean_answers(
            ticket.ticket_type, {k: v for k, v in merged.items() if v is not None}
        )
    changed = [name for name, value in changes.items() if getattr(ticket, name) != value]
    if not changed:
        return ticket
    now = timezone.now()
    with transaction.atomic():
        for name in changed:
            setattr(ticket, name, changes[name])
        fields = list(changed)
        if "priority" in changed:
            sla.reapply_policy(ticket, group_calendar_spec(ticket.group_id), now)
            fields += sla.SLA_FIELDS
        save_versioned(ticket, fields, version=version)
        labels = [
            str(getattr(Ticket._meta.get_field(name), "verbose_name", name)) for name in changed
        ]
        node = node_add(ticket, A.UPDATE, actor, ", ".join(labels))
        ticket_event_emit("ticket.updated", ticket, node)
        ticket_ring(ticket, ticket.assignee_id, *watcher_ids(ticket))
    return ticket


def ticket_attach(*, ticket: Ticket, actor: User, upload: UploadedFile) -> TicketAttachment:
    """Store a file on the ticket after checking its size and type (by extension)."""
    name = os.path.basename(upload.name or "file")[:200]
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED_ATTACHMENT_TYPES:
        raise ValidationError(
            {
                "file": _("Files of this type cannot be attached. Allowed: %(types)s")
                % {"types": ", ".join(sorted(ALLOWED_ATTACHMENT_TYPES))}
            }
        )
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": _("A file may be at most 10 MB.")})
    # One count per user with the chat's files (core.ratelimits): RateLimited, nothing stored.
    ratelimits.user_uploading(user_id=actor.pk, size=upload.size)
    with transaction.atomic():
        attachment = TicketAttachment(
            ticket=ticket,
            name=name,
            size=upload.size,
            content_type=ALLOWED_ATTACHMENT_TYPES[ext],
            uploaded_by=actor,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        node_add(ticket, A.ATTACH, actor, name)
    return attachment


def ticket_watch(*, ticket: Ticket, user: User, watch: bool) -> None:
    if watch:
        ticket.watchers.add(user)
    else:
        ticket.watchers.remove(user)
