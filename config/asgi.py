"""ASGI entry point: HTTP through Django, websockets through Channels.

Websocket routes are collected from each app's routing.py (``websocket_urlpatterns``) so
apps own their own consumers; every route sits behind the Origin check
(core.websocket_origin) and session auth. HTTP request bodies are capped before Django
reads them (core/body_limit.py).
"""

import gc
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
from core.body_limit import BodySizeLimit  # noqa: E402
from core.websocket_origin import allowed_hosts_origin_validator  # noqa: E402

# The routes that take files get KEFU_MAX_UPLOAD_BODY_BYTES instead of KEFU_MAX_BODY_BYTES;
# their views still check each file's size and type. (core/tests/test_body_limit.py checks
# that these match the URLs.)
UPLOAD_PATHS = (
    r"^/chat/api/attachments/$",
    r"^/workbench/api/conversations/\d+/attachments/$",
    r"^/tickets/\d+/act/attach/$",
)

application = ProtocolTypeRouter(
    {
        "http": BodySizeLimit(django_asgi_app, upload_paths=UPLOAD_PATHS),
        "websocket": allowed_hosts_origin_validator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Thousands of open websockets are hundreds of thousands of long-lived objects. With
# CPython's default thresholds a full collection ran every 10-40 s and stopped the event
# loop for 0.3-5.7 s at 10,000 sockets (every push, ack and ping waited). The objects of
# startup are frozen out of the collector, and young collections run every 50,000
# allocations instead of 700, so short-lived objects die young instead of being promoted:
# 1 full collection (0.1 s) instead of 21 in two otherwise equal bench/ws_idle.py runs,
# push p99 702 -> 48 ms (bench/README.md, "bench/ws_idle.py").
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 20, 10)
