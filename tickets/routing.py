from django.urls import path

from tickets.consumers import TicketNotificationConsumer

websocket_urlpatterns = [path("ws/tickets/notifications/", TicketNotificationConsumer.as_asgi())]
