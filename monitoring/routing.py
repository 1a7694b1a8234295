from django.urls import path

from monitoring.consumers import SeatBoardConsumer

websocket_urlpatterns = [path("ws/monitoring/seats/", SeatBoardConsumer.as_asgi())]
