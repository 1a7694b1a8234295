import factory

from agents.tests.factories import SkillGroupFactory
from service_orders.models import IssueType
from workbench.models import ChannelAccount


class ChannelFactory(factory.django.DjangoModelFactory[ChannelAccount]):
    class Meta:
        model = ChannelAccount

    name = factory.Sequence(lambda n: f"Channel {n}")
    key = factory.Sequence(lambda n: f"chan-{n}")
    shop = None
    default_group = factory.SubFactory(SkillGroupFactory)
    greeting = "Hello! How can we help?"
    identity_secret = "s3cret-for-tests"


class IssueTypeFactory(factory.django.DjangoModelFactory[IssueType]):
    class Meta:
        model = IssueType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Issue {n}")
