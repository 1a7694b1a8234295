"""Demo tickets for seed_demo: calendars, types with fields, SLA policies, a few tickets.

Idempotent: configuration is get-or-create by name; demo tickets are made once (by title).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db import transaction

from agents.models import SkillGroup, User
from commerce.models import Order
from settings_app.models import BusinessCalendar, GroupSettings, WorkingInterval
from tickets.models import SlaPolicy, Ticket, TicketCategory, TicketField, TicketType
from tickets.services.lifecycle import ticket_create

K = TicketField.Kind

TYPES: list[dict[str, Any]] = [
    {
        "name": "Lost or late parcel",
        "description": "The parcel has not arrived or the tracking stopped.",
        "group": "Logistics desk",
        "category": "Logistics",
        "fields": [
            ("order_no", "Order number", K.ORDER_NO, True, ""),
            ("carrier", "Carrier", K.CHOICE, True, "SF Express\nYTO\nZTO\nJD Logistics"),
            ("last_seen", "Last tracking update", K.DATE, False, ""),
            ("details", "What the customer says", K.LONG_TEXT, False, ""),
        ],
    },
    {
        "name": "Refund request",
        "description": "The customer asks for money back.",
        "group": "Refunds desk",
        "category": "Refund",
        "fields": [
            ("order_no", "Order number", K.ORDER_NO, True, ""),
            ("amount", "Amount to refund", K.AMOUNT, True, ""),
            ("reason", "Reason", K.CHOICE, True, "Damaged\nWrong item\nNot as described\nOther"),
            ("items", "Number of items", K.NUMBER, False, ""),
        ],
    },
    {
        "name": "Complaint",
        "description": "The customer is unhappy with the service or a colleague.",
        "group": "Complaints",
        "category": "Complaint",
        "fields": [
            ("about", "About", K.TEXT, True, ""),
            ("details", "Details", K.LONG_TEXT, True, ""),
        ],
    },
    {
        # Asks nothing beyond title and description: the type "Create ticket" in the
        # workbench starts as, so click two can submit straight away.
        "name": "Chat follow-up",
        "description": "Something promised in a chat that needs work after it ends.",
        "group": "After-sales",
        "category": "Follow-up",
        "fields": [
            ("details", "Details", K.LONG_TEXT, False, ""),
        ],
    },
]


def _calendar() -> BusinessCalendar:
    cal, _ = BusinessCalendar.objects.get_or_create(
        name="China office hours",
        defaults={"time_zone": "Asia/Shanghai", "follow_china_holidays": True},
    )
    if not cal.intervals.exists():
        for day in range(5):
            WorkingInterval.objects.create(calendar=cal, weekday=day, start=time(9), end=time(12))
            WorkingInterval.objects.create(
                calendar=cal, weekday=day, start=time(13, 30), end=time(18)
            )
    return cal


@transaction.atomic
def seed_tickets(*, groups: dict[Any, SkillGroup], now: datetime) -> None:
    office = _calendar()
    # The back-office desks keep office hours; complaints are staffed around the clock.
    for name, calendar in (
        ("Logistics desk", office),
        ("Refunds desk", office),
        ("Complaints", None),
    ):
        GroupSettings.objects.get_or_create(
            group=groups[name], defaults={"calendar": calendar, "reassign_after_minutes": 60}
        )
    types = {}
    for spec in TYPES:
        category, _ = TicketCategory.objects.get_or_create(name=spec["category"])
        kind, _ = TicketType.objects.get_or_create(
            name=spec["name"],
            defaults={
                "description": spec["description"],
                "default_group": groups[spec["group"]],
                "category": category,
            },
        )
        for position, (key, label, field_kind, required, options) in enumerate(spec["fields"]):
            TicketField.objects.get_or_create(
                ticket_type=kind,
                key=key,
                defaults={
                    "label": label,
                    "kind": field_kind,
                    "required": required,
                    "options": options,
                    "position": position,
                },
            )
        types[spec["name"]] = kind
    SlaPolicy.objects.get_or_create(
        name="Standard",
        defaults={"first_response_minutes": 240, "resolution_minutes": 960},
    )
    SlaPolicy.objects.get_or_create(
        name="Urgent refunds",
        defaults={
            "ticket_type": types["Refund request"],
            "priority": "urgent",
            "first_response_minutes": 30,
            "resolution_minutes": 240,
            "remind_before_minutes": 10,
            "reassign_on_breach": True,
        },
    )
    # Short enough to see a reminder (after 5 minutes) and a breach in a demo session.
    SlaPolicy.objects.get_or_create(
        name="Urgent complaints",
        defaults={
            "ticket_type": types["Complaint"],
            "priority": "urgent",
            "first_response_minutes": 15,
            "resolution_minutes": 120,
            "remind_before_minutes": 10,
        },
    )
    if Ticket.objects.exists():
        return
    agent = User.objects.get(username="agent1")
    blossom = User.objects.get(username="blossom1")
    ticket_create(
        ticket_type=types["Lost or late parcel"],
        title="Parcel stuck in Hangzhou for 4 days",
        submitter=agent,
        priority="high",
        order=Order.objects.get(order_no="BT20261115002"),
        answers={"order_no": "BT20261115002", "carrier": "SF Express"},
    )
    ticket_create(
        ticket_type=types["Refund request"],
        title="Headphones crackle: refund",
        submitter=agent,
        priority="urgent",
        order=Order.objects.get(order_no="NW20261103001"),
        answers={"order_no": "NW20261103001", "amount": "2499.00", "reason": "Damaged"},
    )
    ticket_create(
        ticket_type=types["Complaint"],
        title="Rude answer in chat",
        submitter=agent,
        answers={"about": "Chat on Monday", "details": "The customer felt brushed off."},
    )
    ticket_create(
        ticket_type=types["Lost or late parcel"],
        title="Gift box not shipped yet",
        submitter=blossom,
        order=Order.objects.get(order_no="BT20261120003"),
        answers={"order_no": "BT20261120003", "carrier": "YTO"},
    )
