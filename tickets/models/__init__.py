"""The tickets app's models, by concern; import them from here (`tickets.models`)."""

from tickets.models.config import Priority, SlaPolicy, TicketCategory, TicketField, TicketType
from tickets.models.records import ApiIdempotencyKey, SavedView
from tickets.models.ticket import SlaEvent, Ticket, TicketAttachment, TicketNode

__all__ = [
    "ApiIdempotencyKey",
    "Priority",
    "SavedView",
    "SlaEvent",
    "SlaPolicy",
    "Ticket",
    "TicketAttachment",
    "TicketCategory",
    "TicketField",
    "TicketNode",
    "TicketType",
]
