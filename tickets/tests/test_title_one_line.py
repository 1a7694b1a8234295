"""A ticket title is one line (issue 11, item 6): a line break used to be accepted, after
which every email about the ticket failed silently on each sweep. Titles are folded at the
service (so the page and the API agree), and a notification that fails shows on the
ticket's timeline instead of vanishing."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from commerce.tests.factories import CustomerFactory
from tickets.models import Ticket, TicketNode
from tickets.services.content import ticket_reply, ticket_update
from tickets.services.lifecycle import ticket_create
from tickets.tests.conftest import member

pytestmark = pytest.mark.django_db


GOOD = {
    "order_no": "BT20261101001",
    "amount": "1",
    "carrier": "YTO",
    "since": "2025-11-01",
    "boxes": "1",
}


def _ticket(ticket_type, group, *, title, customer=None):
    submitter = member(group)
    ticket = ticket_create(
        ticket_type=ticket_type, title=title, submitter=submitter, customer=customer, answers=GOOD
    )
    return ticket, submitter


def test_line_breaks_and_tabs_fold_into_one_line(ticket_type, group):
    ticket, _ = _ticket(ticket_type, group, title="  Parcel\r\nlost\tin\u2028transit ")
    assert Ticket.objects.get(pk=ticket.pk).title == "Parcel lost in transit"


def test_control_characters_and_empty_titles_are_refused(ticket_type, group):
    with pytest.raises(ValidationError) as refused:
        _ticket(ticket_type, group, title="Parcel\x00lost")
    assert "title" in refused.value.message_dict
    with pytest.raises(ValidationError):
        _ticket(ticket_type, group, title="\n\t ")


def test_an_edit_folds_the_title_too(ticket_type, group):
    ticket, submitter = _ticket(ticket_type, group, title="Parcel lost")
    ticket_update(ticket=ticket, actor=submitter, title="Parcel\nfound")
    assert Ticket.objects.get(pk=ticket.pk).title == "Parcel found"


def test_the_api_folds_the_title(client, ticket_type, group):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=member(group))
    response = client.post(
        "/api/v1/tickets/",
        {"ticket_type": ticket_type.pk, "title": "Refund\nplease", "answers": GOOD},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 201, response.content
    assert Ticket.objects.get(pk=response.json()["id"]).title == "Refund please"


def test_an_old_title_with_a_line_break_still_reaches_the_customer(
    ticket_type, group, django_capture_on_commit_callbacks
):
    customer = CustomerFactory.create(email="c@example.com")
    ticket, submitter = _ticket(ticket_type, group, title="Parcel lost", customer=customer)
    # A row written before titles were folded.
    Ticket.objects.filter(pk=ticket.pk).update(title="Parcel\nlost")
    ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, actor=submitter, text="We are on it.")
    assert len(mail.outbox) == 1
    assert "\n" not in mail.outbox[0].subject and "Parcel lost" in mail.outbox[0].subject


def test_a_failed_customer_email_shows_on_the_timeline(
    ticket_type, group, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tickets.tests.test_title_one_line.BrokenBackend"
    customer = CustomerFactory.create(email="c@example.com")
    ticket, submitter = _ticket(ticket_type, group, title="Parcel lost", customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, actor=submitter, text="We are on it.")
    failed = TicketNode.objects.get(ticket=ticket, action=TicketNode.Action.NOTIFY_FAILED)
    assert "could not be sent" in failed.comment and "mail server down" in failed.comment


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")
