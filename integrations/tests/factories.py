import factory

from integrations.models import WebhookAllowedHost, WebhookEndpoint


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
