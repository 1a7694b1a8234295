import pytest
from django.core.management import call_command

from settings_app.models import BusinessCalendar, GroupSettings, WorkingInterval
from tickets.models import SlaPolicy, Ticket, TicketField, TicketNode, TicketType

pytestmark = pytest.mark.django_db

MODELS = (
    BusinessCalendar,
    WorkingInterval,
    GroupSettings,
    TicketType,
    TicketField,
    SlaPolicy,
    Ticket,
    TicketNode,
)


def test_seed_demo_is_idempotent_and_seeds_tickets():
    call_command("seed_demo", verbosity=0)
    first = {m.__name__: m.objects.count() for m in MODELS}
    call_command("seed_demo", verbosity=0)
    assert {m.__name__: m.objects.count() for m in MODELS} == first
    assert first["TicketType"] == 4 and first["Ticket"] == 4
    blossom = Ticket.objects.filter(shop__code="blossom-tea")
    assert blossom.count() == 2  # the merchant's own ticket stays in its shop
