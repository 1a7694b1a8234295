"""Tickets (工单): typed work addressed to a group, its nodes (the audit trail), attachments
and SLA events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import Shop, SkillGroup
from commerce.models import Customer, Order
from tickets.models.config import Priority, SlaPolicy, TicketCategory, TicketType  # noqa: F401


class Ticket(models.Model):
    """A tracked piece of work addressed to a group; assigned to one person at a time."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        WAITING_HOURS = "waiting_hours", _("Waiting for working hours")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        ON_HOLD = "on_hold", _("On hold")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class HoldReason(models.TextChoices):
        CUSTOMER = "customer", _("Waiting for the customer")
        THIRD_PARTY = "third_party", _("Waiting for a third party")

    OPEN_STATUSES = ("new", "waiting_hours", "assigned", "in_progress", "on_hold")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    ticket_type = models.ForeignKey(
        TicketType, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("type")
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("category"),
    )
    status = models.CharField(
        _("status"), max_length=14, choices=Status.choices, default=Status.NEW
    )
    hold_reason = models.CharField(
        _("hold reason"), max_length=12, choices=HoldReason.choices, blank=True
    )
    shop = models.ForeignKey(
        Shop,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("shop"),
        help_text=_("Empty for a platform ticket."),
    )
    group = models.ForeignKey(
        SkillGroup, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("group")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submitted_tickets",
        verbose_name=_("submitter"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("order"),
    )
    # The chat contact the ticket came from: the customer hears back in that conversation.
    service_order = models.ForeignKey(
        "service_orders.ServiceOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("service order"),
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="watched_tickets",
        verbose_name=_("watchers"),
    )
    # Optimistic locking: every write is UPDATE … WHERE version = N and bumps it.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # SLA: deadlines on the group's calendar; a customer hold pauses the clock and shifts them.
    sla_policy = models.ForeignKey(
        "SlaPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused business seconds"), default=0)
    # Denormalised for the list filter and the sweep: the nearest running deadline and the
    # moment its reminder is due. Null when no clock runs (no policy, paused, done).
    sla_due = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(_("SLA reminder at"), null=True, blank=True)
    # When the SLA sweep must look at this ticket next (a reminder or a breach is due).
    sla_check_at = models.DateTimeField(_("SLA check at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ticket_recent"),
            # id last: a list filtered by group (and status) reads its page newest first
            # straight from this index, at any keyset depth.
            models.Index(fields=["group", "status", "-id"], name="ticket_group_status_recent"),
            # Open/overdue counts per group read only this (small) index; shop is in it
            # so a merchant's counts are an index-only scan too.
            models.Index(
                fields=["group", "shop", "sla_due"],
                condition=Q(
                    status__in=["new", "waiting_hours", "assigned", "in_progress", "on_hold"]
                ),
                name="ticket_open_by_group",
            ),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            # "My tickets" newest first, at any keyset depth, however few of the rows are mine.
            models.Index(fields=["assignee", "-id"], name="ticket_assignee_recent"),
            models.Index(fields=["shop", "-created_at", "-id"], name="ticket_shop_recent"),
            models.Index(
                fields=["sla_warn_at"],
                condition=Q(sla_warn_at__isnull=False),
                name="ticket_sla_warn",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "new",
                        "waiting_hours",
                        "assigned",
                        "in_progress",
                        "on_hold",
                        "resolved",
                        "closed",
                    ]
                ),
                name="ticket_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    shop_scope_path = "shop"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def sla_state(self) -> str:
        """ok / due_soon / breached / paused / none (no running clock)."""
        if self.paused_at is not None:
            return "paused"
        if self.sla_due is None:
            return "none"
        now = timezone.now()
        if now >= self.sla_due:
            return "breached"
        if self.sla_warn_at is not None and now >= self.sla_warn_at:
            return "due_soon"
        return "ok"


class TicketNode(models.Model):
    """One step in a ticket's life (节点): who, in which group, did what, with what result."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        ASSIGN = "assign", _("Assigned")
        HOLD_FOR_HOURS = "wait_hours", _("Waiting for working hours")
        ACCEPT = "accept", _("Accepted")
        REPLY = "reply", _("Replied to the customer")
        COMMENT = "comment", _("Internal comment")
        FORWARD = "forward", _("Forwarded")
        REASSIGN = "reassign", _("Reassigned")
        HOLD = "hold", _("Put on hold")
        RESUME = "resume", _("Resumed")
        RESOLVE = "resolve", _("Resolved")
        CLOSE = "close", _("Closed")
        REOPEN = "reopen", _("Reopened")
        SLA_REMINDER = "sla_reminder", _("SLA reminder")
        SLA_BREACH = "sla_breach", _("SLA breached")
        ATTACH = "attach", _("Attached a file")
        UPDATE = "update", _("Edited")
        NOTIFY_FAILED = "notify_failed", _("Notification failed")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="nodes", verbose_name=_("ticket")
    )
    action = models.CharField(_("action"), max_length=14, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: the system."),
    )
    group = models.ForeignKey(
        SkillGroup,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("group"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("held by"),
    )
    status = models.CharField(_("result"), max_length=14, choices=Ticket.Status.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket node")
        verbose_name_plural = _("ticket nodes")
        ordering = ["ticket", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.created_at:%Y-%m-%d %H:%M}"


def _attachment_path(instance: TicketAttachment, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{filename}"


class TicketAttachment(models.Model):
    """A file on a ticket; served only through the ticket's access check."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    file = models.FileField(_("file"), upload_to=_attachment_path)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class SlaEvent(models.Model):
    """A reminder or breach notice: one row per deadline value, so it is sent only once."""

    class Deadline(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        BREACH = "breach", _("Breach")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="sla_events", verbose_name=_("ticket")
    )
    deadline_kind = models.CharField(_("deadline"), max_length=16, choices=Deadline.choices)
    deadline = models.DateTimeField(_("deadline at"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "deadline_kind", "deadline", "kind"], name="slaevent_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.deadline_kind} {self.kind}"
