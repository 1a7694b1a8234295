"""The test suite: fast hashing, in-memory email, deterministic task execution."""

from .base import *

DEBUG = False
SECRET_KEY = SECRET_KEY or "test-secret-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
CELERY_TASK_ALWAYS_EAGER = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Static files come straight from the app and static/ folders (no collectstatic here).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # type: ignore[assignment]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
# Tests must not depend on (or pollute) a shared cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AXES_FAILURE_LIMIT = 3
# In-memory by default so parallel workers never hear each other's events; tests marked
# `redis` switch to the real Redis layer with a prefix of their own.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Pool threads' connections outlive a test and block dropping the test database; the
# pool itself is exercised by the test that runs a real server with production settings.
CHAT_DB_THREAD_POOL = False
# Rate limits stay on, roomy enough for any test (some open hundreds of sessions from one
# address); the tests of the limits tighten them (the `rate_limits` fixture, conftest.py).
# Counters live in this process's memory; tests marked `redis` count in Redis.
KEFU_RATE_STORAGE_URL = "memory://"
_ROOMY = "100000/minute"
KEFU_RATE_CHAT_SESSIONS = _ROOMY
KEFU_RATE_CONVERSATIONS_PER_ADDRESS = _ROOMY
KEFU_RATE_CONVERSATIONS_PER_VISITOR = _ROOMY
KEFU_RATE_UPLOADS_PER_VISITOR = _ROOMY
KEFU_RATE_UPLOAD_MB_PER_VISITOR = _ROOMY
KEFU_RATE_UPLOAD_MB_PER_ADDRESS = _ROOMY
KEFU_RATE_UPLOADS_PER_USER = _ROOMY
KEFU_RATE_UPLOAD_MB_PER_USER = _ROOMY
KEFU_RATE_VISITOR_SOCKET_SENDS = _ROOMY
KEFU_RATE_AGENT_SOCKET_SENDS = _ROOMY
KEFU_RATE_SOCKET_REFUSALS = _ROOMY
