"""Visitor tokens and identity verification (HMAC of the customer id by the shop's server)."""

import pytest

from commerce.tests.factories import CustomerFactory, OrderFactory
from workbench.errors import ChatError
from workbench.models import Visitor
from workbench.selectors import hash_token, visitor_from_token
from workbench.services.visitors import identity_hash, visitor_open
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db


def test_new_visitor_gets_a_token_and_only_its_hash_is_stored():
    channel = make_channel()
    session = visitor_open(channel=channel)
    assert len(session.token) >= 40
    stored = Visitor.objects.get()
    assert stored.token_hash == hash_token(session.token)
    assert session.token not in stored.token_hash
    assert visitor_from_token(token=session.token) == stored
    assert session.identified is False


def test_known_token_resumes_the_same_visitor():
    channel = make_channel()
    first = visitor_open(channel=channel)
    again = visitor_open(channel=channel, token=first.token)
    assert again.visitor == first.visitor and again.token == first.token
    assert Visitor.objects.count() == 1


def test_unknown_token_makes_a_new_visitor():
    channel = make_channel()
    session = visitor_open(channel=channel, token="guessed-token")
    assert session.token != "guessed-token"


def test_valid_hmac_identifies_the_customer():
    channel = make_channel()
    customer = CustomerFactory.create(external_id="C42")
    session = visitor_open(
        channel=channel,
        customer_id="C42",
        customer_hash=identity_hash(channel.identity_secret, "C42"),
    )
    assert session.identified and session.visitor.customer == customer


@pytest.mark.parametrize("bad_hash", ["", "0" * 64, "not-a-hash"])
def test_wrong_hmac_is_refused_and_identifies_nobody(bad_hash):
    channel = make_channel()
    CustomerFactory.create(external_id="C42")
    with pytest.raises(ChatError) as err:
        visitor_open(channel=channel, customer_id="C42", customer_hash=bad_hash)
    assert err.value.code == "identity_invalid"
    assert not Visitor.objects.filter(customer__isnull=False).exists()


def test_hash_made_with_another_channels_secret_is_refused():
    channel, other = make_channel(), make_channel()
    other.identity_secret = "other-secret"
    other.save()
    with pytest.raises(ChatError):
        visitor_open(
            channel=channel, customer_id="C1", customer_hash=identity_hash("other-secret", "C1")
        )


def test_channel_without_secret_never_identifies():
    channel = make_channel()
    channel.identity_secret = ""
    channel.save()
    with pytest.raises(ChatError):
        visitor_open(channel=channel, customer_id="C1", customer_hash=identity_hash("", "C1"))


def test_other_customer_on_same_browser_gets_a_fresh_visitor():
    channel = make_channel()
    one = visitor_open(
        channel=channel, customer_id="A", customer_hash=identity_hash(channel.identity_secret, "A")
    )
    two = visitor_open(
        channel=channel,
        token=one.token,
        customer_id="B",
        customer_hash=identity_hash(channel.identity_secret, "B"),
    )
    assert two.visitor != one.visitor and two.token != one.token


def _signed(channel, customer_id):
    return visitor_open(
        channel=channel,
        customer_id=customer_id,
        customer_hash=identity_hash(channel.identity_secret, customer_id),
    )


def test_a_merchant_signature_never_reaches_another_shops_customer(shop_a, shop_b):
    # Issue 11, item 3: a merchant can sign any id; it must not open another shop's buyer.
    theirs = CustomerFactory.create(external_id="C77", name="Only B Buyer", email="b@x.cn")
    OrderFactory.create(shop=shop_b, customer=theirs, order_no="NW-77")
    session = _signed(make_channel(shop=shop_a), "C77")
    assert session.identified
    customer = session.visitor.customer
    assert customer != theirs
    assert (customer.name, customer.email) == ("", "")
    assert (customer.external_id, customer.shop) == ("C77", shop_a)
    # Stable: the same signed id comes back to the same shop-local customer.
    assert _signed(make_channel(shop=shop_a), "C77").visitor.customer == customer


def test_a_merchant_signature_reaches_its_own_shops_customer(shop_a):
    mine = CustomerFactory.create(external_id="C78", name="A Buyer")
    OrderFactory.create(shop=shop_a, customer=mine, order_no="BT-78")
    assert _signed(make_channel(shop=shop_a), "C78").visitor.customer == mine


def test_a_platform_signature_reaches_the_marketplace_customer(shop_b):
    theirs = CustomerFactory.create(external_id="C79")
    OrderFactory.create(shop=shop_b, customer=theirs, order_no="NW-79")
    assert _signed(make_channel(), "C79").visitor.customer == theirs


def test_a_channel_cannot_send_its_conversations_to_another_shops_group(shop_a, shop_b):
    # Issue 11, item 4: the group's members could never open them.
    from django.core.exceptions import ValidationError

    from agents.tests.factories import SkillGroupFactory
    from workbench.tests.factories import ChannelFactory

    theirs = SkillGroupFactory.create(shop=shop_b)
    with pytest.raises(ValidationError) as refused:
        ChannelFactory.build(shop=shop_a, default_group=theirs).full_clean()
    assert "default_group" in refused.value.message_dict
    with pytest.raises(ValidationError):
        ChannelFactory.build(shop=None, default_group=theirs).full_clean()
    ChannelFactory.build(shop=shop_a, default_group=SkillGroupFactory.create()).full_clean()
    ChannelFactory.build(
        shop=shop_a, default_group=SkillGroupFactory.create(shop=shop_a)
    ).full_clean()
