import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from agents.roles import Role
from agents.tests.factories import SkillGroupFactory, UserFactory
from commerce.tests.factories import CustomerFactory, OrderFactory
from tickets.models import Ticket, TicketNode
from tickets.services.errors import TicketError, TicketPermissionError
from tickets.services.lifecycle import ticket_create
from tickets.tests.conftest import member

pytestmark = pytest.mark.django_db

GOOD = {
    "order_no": "BT20261101001",
    "amount": "129.5",
    "carrier": "YTO",
    "since": "2025-11-01",
    "boxes": "2",
}


def test_answers_are_validated_and_stored_as_json(
    ticket_type, group, clock, django_capture_on_commit_callbacks
):
    submitter = UserFactory.create(role=Role.AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_create(
            ticket_type=ticket_type, title="Parcel lost", submitter=submitter, answers=GOOD
        )
    ticket.refresh_from_db()
    assert ticket.answers == {
        "order_no": "BT20261101001",
        "amount": "129.50",
        "carrier": "YTO",
        "since": "2025-11-01",
        "boxes": 2,
    }
    assert ticket.group == group
    assert next(iter(ticket.nodes.values_list("action", flat=True))) == TicketNode.Action.CREATE


def test_required_and_kind_errors_name_each_field(ticket_type):
    with pytest.raises(ValidationError) as exc:
        ticket_create(
            ticket_type=ticket_type,
            title="x",
            submitter=None,
            answers={"amount": "lots", "carrier": "DHL", "since": "yesterday", "boxes": "two"},
        )
    errors = exc.value.message_dict
    assert set(errors) == {"order_no", "amount", "carrier", "since", "boxes"}
    assert Ticket.objects.count() == 0


def test_unknown_answer_keys_are_refused(ticket_type):
    with pytest.raises(ValidationError, match="Unknown field"):
        ticket_create(
            ticket_type=ticket_type, title="x", submitter=None, answers={**GOOD, "colour": "red"}
        )


def test_order_sets_shop_and_customer(ticket_type, shop_a):
    order = OrderFactory.create(shop=shop_a, customer=CustomerFactory.create())
    ticket = ticket_create(
        ticket_type=ticket_type, title="x", submitter=None, answers=GOOD, order=order
    )
    assert ticket.shop_id == shop_a.pk
    assert ticket.customer_id == order.customer_id


def test_merchant_cannot_file_for_another_shop(ticket_type, people, shop_b):
    order = OrderFactory.create(shop=shop_b)
    with pytest.raises(TicketPermissionError):
        ticket_create(
            ticket_type=ticket_type,
            title="x",
            submitter=people["merchant_a"],
            answers=GOOD,
            order=order,
        )


def test_shop_group_refuses_other_shops_ticket(ticket_type, shop_a, shop_b):
    shop_group = SkillGroupFactory.create(shop=shop_b)
    with pytest.raises(TicketError):
        ticket_create(
            ticket_type=ticket_type,
            title="x",
            submitter=None,
            answers=GOOD,
            order=OrderFactory.create(shop=shop_a),
            group=shop_group,
        )


def test_submitter_may_pick_a_member(ticket_type, group):
    person = member(group)
    ticket = ticket_create(
        ticket_type=ticket_type, title="x", submitter=None, answers=GOOD, assignee=person
    )
    assert ticket.status == Ticket.Status.ASSIGNED
    assert ticket.assignee == person
    outsider = UserFactory.create()
    with pytest.raises(ValidationError):
        ticket_create(
            ticket_type=ticket_type, title="x", submitter=None, answers=GOOD, assignee=outsider
        )


def test_new_ticket_is_assigned_after_commit(
    ticket_type, group, django_capture_on_commit_callbacks
):
    person = member(group)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_create(ticket_type=ticket_type, title="x", submitter=None, answers=GOOD)
    ticket.refresh_from_db()
    assert ticket.assignee == person
    assert ticket.status == Ticket.Status.ASSIGNED
    assert len(mail.outbox) == 0
