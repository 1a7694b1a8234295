"""Websocket URL patterns of every app, gathered in one list."""

from monitoring.routing import websocket_urlpatterns as monitoring_ws
from tickets.routing import websocket_urlpatterns as tickets_ws
from workbench.routing import websocket_urlpatterns as workbench_ws

websocket_urlpatterns = [*monitoring_ws, *tickets_ws, *workbench_ws]
