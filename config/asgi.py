"""ASGI entry point: HTTP through Django, websockets through Channels.

Websocket routes are collected from each app's routing.py (``websocket_urlpatterns``) so
apps own their own consumers; every route sits behind the Origin check
(core.websocket_origin) and session auth.
"""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()
# WhiteNoise streams static files with a sync iterator; under ASGI Django warns on every
# file. The files are small and cached by browsers, so the warning is noise here.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.websocket_origin import allowed_hosts_origin_validator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": allowed_hosts_origin_validator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
