"""Writes for canned replies."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F

from knowledge.models import CannedReply


def canned_reply_used(*, reply: CannedReply, user: Any) -> int:
    """Count one use of a canned reply (the list orders by it); returns the new count.

    `reply` must come from canned_reply_get_for(user=...), which checks the user may use it.
    """
    CannedReply.objects.filter(pk=reply.pk).update(usage_count=F("usage_count") + 1)
    reply.refresh_from_db(fields=["usage_count"])
    return reply.usage_count


def canned_reply_create_personal(
    *, owner: Any, title: str, text: str, shortcut: str = ""
) -> CannedReply:
    """An agent saves a reply of their own (only they see it)."""
    reply = CannedReply(
        scope=CannedReply.Scope.PERSONAL,
        owner=owner,
        title=title.strip(),
        text=text.strip(),
        shortcut=shortcut.strip(),
    )
    reply.full_clean()
    reply.save()
    return reply


def canned_reply_update_personal(
    *, reply: CannedReply, user: Any, title: str, text: str, shortcut: str = ""
) -> CannedReply:
    """Edit one's own personal reply. Team and shared replies are edited by admins."""
    if reply.scope != CannedReply.Scope.PERSONAL or reply.owner_id != user.pk:
        raise PermissionDenied
    reply.title, reply.text, reply.shortcut = title.strip(), text.strip(), shortcut.strip()
    reply.full_clean()
    reply.save(update_fields=["title", "text", "shortcut", "updated_at"])
    return reply


def canned_reply_delete_personal(*, reply: CannedReply, user: Any) -> None:
    if reply.scope != CannedReply.Scope.PERSONAL or reply.owner_id != user.pk:
        raise PermissionDenied
    reply.delete()
