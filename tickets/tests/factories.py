import factory

from agents.tests.factories import SkillGroupFactory
from tickets.models import SlaPolicy, TicketField, TicketType


class TicketTypeFactory(factory.django.DjangoModelFactory[TicketType]):
    class Meta:
        model = TicketType

    name = factory.Sequence(lambda n: f"Type {n}")
    default_group = factory.SubFactory(SkillGroupFactory)


class TicketFieldFactory(factory.django.DjangoModelFactory[TicketField]):
    class Meta:
        model = TicketField

    ticket_type = factory.SubFactory(TicketTypeFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    kind = TicketField.Kind.TEXT


class SlaPolicyFactory(factory.django.DjangoModelFactory[SlaPolicy]):
    class Meta:
        model = SlaPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    first_response_minutes = 60
    resolution_minutes = 480
    remind_before_minutes = 30
