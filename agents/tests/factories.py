import factory

from agents.models import GroupMembership, Shop, SkillGroup, User
from agents.roles import Role
from agents.services import user_create


class ShopFactory(factory.django.DjangoModelFactory[Shop]):
    class Meta:
        model = Shop
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Shop {n}")
    code = factory.Sequence(lambda n: f"shop-{n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A back-office user made through the same service the app uses (role, shops, seat)."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = "pw-for-tests-1"
    role = Role.AGENT
    shops: list[Shop] = []

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return user_create(**kwargs)


class SkillGroupFactory(factory.django.DjangoModelFactory[SkillGroup]):
    class Meta:
        model = SkillGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    shop = None


class GroupMembershipFactory(factory.django.DjangoModelFactory[GroupMembership]):
    class Meta:
        model = GroupMembership

    group = factory.SubFactory(SkillGroupFactory)
    user = factory.SubFactory(UserFactory)
