import factory

from settings_app.models import (
    CannedReply,
    KnowledgeArticle,
    KnowledgeQA,
    WebhookAllowedHost,
    WebhookEndpoint,
)


class WebhookEndpointFactory(factory.django.DjangoModelFactory[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"Endpoint {n}")
    url = "https://hooks.example.com/kefu"
    secret = factory.Sequence(lambda n: f"whsec_test_{n}")
    event_types = factory.LazyFunction(lambda: ["ticket.created", "ticket.closed"])
    shop = None


class WebhookAllowedHostFactory(factory.django.DjangoModelFactory[WebhookAllowedHost]):
    class Meta:
        model = WebhookAllowedHost
        django_get_or_create = ("host",)

    host = "127.0.0.1"


class CannedReplyFactory(factory.django.DjangoModelFactory[CannedReply]):
    class Meta:
        model = CannedReply

    title = factory.Sequence(lambda n: f"Reply {n}")
    text = "Thank you for waiting."
    scope = CannedReply.Scope.SHARED


class KnowledgeQAFactory(factory.django.DjangoModelFactory[KnowledgeQA]):
    class Meta:
        model = KnowledgeQA

    question = factory.Sequence(lambda n: f"Question {n}")
    answer = "An answer."


class KnowledgeArticleFactory(factory.django.DjangoModelFactory[KnowledgeArticle]):
    class Meta:
        model = KnowledgeArticle

    title = factory.Sequence(lambda n: f"Article {n}")
    body = "Body text."
