"""Who hears of a ticket change: webhooks, live doorbells, emails and the chat notice.

Everything here happens after commit (or is recorded inside the caller's transaction and
sent after it), so a rolled-back change tells nobody anything.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.realtime import broadcast_on_commit
from core.text import single_line
from integrations.services import webhook_emit
from tickets.models import SlaEvent, Ticket, TicketNode
from tickets.payloads import sla_doorbell, ticket_doorbell, ticket_event_payload
from tickets.selectors import sla_event_recipients
from tickets.services.state import node_add

logger = logging.getLogger(__name__)

CUSTOMER_SUBJECT = gettext_lazy("Your request #%(id)s: %(title)s")


def ticket_event_emit(
    event_type: str, ticket: Ticket, node: TicketNode, extra: dict[str, Any] | None = None
) -> TicketNode:
    """Queue the webhook for this step inside the caller's transaction (nothing on rollback).
    The payload is built only if an active endpoint listens (webhook_emit decides)."""
    webhook_emit(
        event_type=event_type,
        payload=lambda: {**ticket_event_payload(ticket, node), **(extra or {})},
        shop_id=ticket.shop_id,
    )
    return node


def ticket_ring(ticket: Ticket, *user_ids: int | None, kind: str = "ticket.changed") -> None:
    """Tell the people concerned that the ticket changed (they re-read over HTTP)."""
    for uid in {u for u in user_ids if u}:
        broadcast_on_commit(f"user.{uid}", ticket_doorbell(ticket.pk, kind=kind))


def watcher_ids(ticket: Ticket) -> list[int]:
    return list(ticket.watchers.values_list("pk", flat=True))


# --- the customer hears back -------------------------------------------------------------


def customer_email(ticket: Ticket, text: str, *, resolved: bool = False) -> None:
    """Email the linked customer after commit (the chat channel comes with live chat)."""
    customer = ticket.customer
    if customer is None or not customer.email:
        return
    subject = str(CUSTOMER_SUBJECT) % {"id": ticket.pk, "title": single_line(ticket.title)}
    body = text
    if resolved:
        body = _("Your request has been resolved:\n\n%(text)s") % {"text": text}
    address = customer.email
    ticket_id = ticket.pk

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        except Exception as exc:
            notification_failed(ticket_id=ticket_id, what=_("Email to the customer"), error=exc)

    transaction.on_commit(send)


def notification_failed(*, ticket_id: int, what: str, error: BaseException) -> None:
    """A notification that could not be sent is logged and shown on the ticket's timeline,
    so people see it instead of the customer silently hearing nothing."""
    logger.error("ticket %s: %s failed: %r", ticket_id, what, error)
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return
    with transaction.atomic():
        node_add(
            ticket,
            TicketNode.Action.NOTIFY_FAILED,
            None,
            comment=_("%(what)s could not be sent: %(error)s")
            % {"what": what, "error": str(error)[:300] or type(error).__name__},
        )


def resolution_notice_enqueue(node: TicketNode) -> None:
    from tickets.tasks import notify_resolution

    node_id = node.pk
    transaction.on_commit(lambda: notify_resolution.delay(node_id))


def ticket_notify_resolution(*, node_id: int) -> bool:
    """Tell the customer of a ticket from a chat that it is resolved, in that conversation.

    The note goes into the conversation as a system message through the chat service, so
    it gets its seq and reaches an open widget live. A closed conversation still takes it
    into its history (the widget shows it when the customer comes back), and because the
    customer may never come back, a closed conversation also sends the email when the
    customer has an address. The message carries a key made from the resolve node, so a
    retried task finds it and sends nothing again. Returns whether anything was sent."""
    from workbench.models import Conversation
    from workbench.services.conversations import conversation_notice

    node = (
        TicketNode.objects.select_related("ticket__service_order", "ticket__customer")
        .filter(pk=node_id, action=TicketNode.Action.RESOLVE)
        .first()
    )
    service_order = node.ticket.service_order if node is not None else None
    if node is None or service_order is None:
        return False
    ticket = node.ticket
    # The customer's language is not known: the site's, not that of whichever agent's
    # request happens to run this task (eager Celery runs it inside that request).
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Your request #%(id)s has been resolved: %(note)s") % {
            "id": ticket.pk,
            "note": node.comment,
        }
    with transaction.atomic():
        message, created = conversation_notice(
            conversation_id=service_order.conversation_id,
            text=text,
            key=f"ticket-resolved-{node.pk}",
        )
        if created:
            closed = (
                Conversation.objects.filter(pk=message.conversation_id)
                .values_list("status", flat=True)
                .first()
            ) == Conversation.Status.CLOSED
            if closed:
                customer_email(ticket, node.comment, resolved=True)
    return created


# --- staff hear of SLA events ---------------------------------------------------------------


def sla_event_deliver(*, event_id: int) -> bool:
    """Send one event live and by email, once: the row is locked and marked delivered in
    the same transaction; a second run finds it delivered and does nothing."""
    with transaction.atomic():
        event = (
            SlaEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("ticket", "ticket__assignee")
            .filter(pk=event_id, delivered_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        ticket = event.ticket
        recipients = sla_event_recipients(event)
        subject = (
            _("SLA breached on ticket #%(id)s: %(title)s")
            if event.kind == SlaEvent.Kind.BREACH
            else _("SLA deadline soon on ticket #%(id)s: %(title)s")
        ) % {"id": ticket.pk, "title": single_line(ticket.title)}
        body = _("%(deadline)s deadline: %(due)s") % {
            "deadline": event.get_deadline_kind_display(),
            "due": f"{timezone.localtime(event.deadline):%Y-%m-%d %H:%M}",
        }
        link = settings.KEFU_SITE_URL.rstrip("/") + reverse("tickets:detail", args=[ticket.pk])
        body = f"{body}\n\n{link}\n"
        for person in recipients:
            broadcast_on_commit(f"user.{person.pk}", sla_doorbell(ticket.pk, kind=event.kind))
        addresses = [p.email for p in recipients if p.email]
        if addresses:
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
            except Exception as exc:
                notification_failed(ticket_id=ticket.pk, what=_("SLA email"), error=exc)
        event.delivered_at = timezone.now()
        event.save(update_fields=["delivered_at"])
    return True
