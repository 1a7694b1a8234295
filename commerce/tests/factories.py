from decimal import Decimal

import factory

from agents.tests.factories import ShopFactory
from commerce.models import Customer, Order


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"CUST{n:05d}")
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    order_no = factory.Sequence(lambda n: f"ORD{n:08d}")
    shop = factory.SubFactory(ShopFactory)
    customer = factory.SubFactory(CustomerFactory)
    status = Order.Status.PAID
    total = Decimal("99.00")
