"""Visitors: a chat session for a browser, and what a customer sends.

`visitor_message_send` is the customer's one way to send, over the websocket and over
HTTP (files) alike: it finds the open conversation or starts one, tries again when the
conversation closed behind the caller's back, and answers a resend with the original.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from commerce.models import Customer
from core import ratelimits
from workbench.errors import ChatError
from workbench.models import ChannelAccount, Conversation, Message, Visitor
from workbench.selectors import conversation_open_for, hash_token, visitor_message
from workbench.services.conversations import conversation_start
from workbench.services.messages import (
    check_attachment,
    check_client_id,
    check_text,
    message_send,
    replay,
)


def identity_hash(secret: str, customer_id: str) -> str:
    """What the shop's server computes: hex HMAC-SHA256(secret, customer id)."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


@dataclass
class VisitorSession:
    visitor: Visitor
    token: str
    identified: bool


@transaction.atomic
def visitor_open(
    *,
    channel: ChannelAccount,
    token: str = "",
    customer_id: str = "",
    customer_hash: str = "",
    address: str | None = None,
) -> VisitorSession:
    """Resume the visitor behind `token` or make a new one; identify them if the shop's
    server signed their customer id. Without a valid signature nobody is identified.

    A new visitor counts against the client `address`'s rate (core.ratelimits; None: not
    from a client); over it, RateLimited and nothing is stored."""
    customer: Customer | None = None
    if customer_id:
        if len(customer_id) > 64 or not channel.identity_secret:
            raise ChatError("identity_invalid", _("Customer identity could not be verified."))
        expected = identity_hash(channel.identity_secret, customer_id)
        if not hmac.compare_digest(expected, customer_hash.lower()):
            raise ChatError("identity_invalid", _("Customer identity could not be verified."))
        customer = _signed_customer(channel, customer_id)

    visitor = None
    if token:
        visitor = Visitor.objects.filter(token_hash=hash_token(token), channel=channel).first()
    # A different signed-in customer on the same browser gets a fresh visitor: histories of
    # two people are never mixed.
    if (
        visitor is not None
        and customer is not None
        and visitor.customer_id not in (None, customer.pk)
    ):
        visitor = None
    if visitor is None:
        ratelimits.chat_session_opening(address=address)
        token = secrets.token_urlsafe(32)
        visitor = Visitor.objects.create(
            channel=channel, token_hash=hash_token(token), customer=customer
        )
    elif customer is not None and visitor.customer_id is None:
        visitor.customer = customer
        visitor.save(update_fields=["customer"])
    return VisitorSession(visitor=visitor, token=token, identified=visitor.customer_id is not None)


def _signed_customer(channel: ChannelAccount, customer_id: str) -> Customer:
    """The customer a channel's signature names.

    A platform channel speaks for the whole marketplace: the id is the marketplace-wide
    customer. A merchant holds its channel's secret and can sign any id, so its signature
    only ever reaches a customer of its own shop (one who bought there); any other id
    becomes a customer of that shop alone, who carries none of the marketplace record (no
    name, email or history from other shops)."""
    if channel.shop_id is None:
        customer, _created = Customer.objects.get_or_create(external_id=customer_id, shop=None)
        return customer
    shop_ids = frozenset({channel.shop_id})
    own = (
        Customer.objects.filter(external_id=customer_id, shop=None)
        .filter(Customer.shop_scope_q(shop_ids))  # with shop=None: bought in this shop
        .first()
    )
    if own is not None:
        return own
    customer, _created = Customer.objects.get_or_create(
        external_id=customer_id, shop_id=channel.shop_id
    )
    return customer


@dataclass
class CustomerSent:
    """Where the customer's message went."""

    conversation: Conversation
    message: Message
    created: bool
    # A conversation was started for this message.
    started: bool


def visitor_message_send(
    *,
    visitor: Visitor,
    client_id: str,
    text: str = "",
    attachment: UploadedFile | None = None,
    followed: Conversation | None = None,
    address: str | None = None,
) -> CustomerSent:
    """Send the customer's message into their open conversation, starting one if none is.

    `followed` is the caller's copy of the open conversation (a socket keeps it current
    from chat.state events): while it is open the message goes straight in (a resend is
    caught by the unique index, across all the visitor's conversations), and only without
    one is the database asked which conversation to use. A copy that turns out closed (a
    missed doorbell) is looked up again. A resend whose first attempt landed in a
    conversation closed since is answered with the original and starts nothing. Bad input
    is refused before anything is started.

    Files and new conversations count against the visitor's and the client `address`'s
    rates (core.ratelimits; None: not from a client); over one, RateLimited is raised
    before anything is stored."""
    check_client_id(client_id)
    checked_text = check_text(text)
    if attachment is not None:
        check_attachment(attachment)
        ratelimits.visitor_uploading(
            visitor_id=visitor.pk, address=address, size=attachment.size or 0
        )
    elif not checked_text:
        raise ChatError("empty", _("The message is empty."))
    candidates = [followed] if followed is not None and followed.status != "closed" else []
    for attempt in [*candidates, None]:
        started = False
        if attempt is None:
            earlier = visitor_message(visitor=visitor, client_id=client_id)
            if earlier is not None:
                replay(earlier, checked_text, attachment)
                return CustomerSent(earlier.conversation, earlier, created=False, started=False)
        conversation = attempt or conversation_open_for(visitor=visitor)
        if conversation is None:
            ratelimits.conversation_starting(visitor_id=visitor.pk, address=address)
            conversation = conversation_start(visitor=visitor)
            conversation.refresh_from_db()
            started = True
        try:
            message, created = message_send(
                conversation_id=conversation.pk,
                sender=Message.Sender.CUSTOMER,
                client_id=client_id,
                text=text,
                attachment=attachment,
            )
        except ChatError as error:
            # Closed while the caller's copy said open (a missed doorbell): look again.
            if error.code == "conversation_closed" and attempt is not None:
                continue
            raise
        if message.conversation_id != conversation.pk:
            # A resend first stored in an earlier conversation.
            return CustomerSent(message.conversation, message, created=created, started=False)
        return CustomerSent(conversation, message, created=created, started=started)
    raise ChatError("conversation_closed", _("This conversation is closed."))
