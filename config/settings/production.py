"""The full stack: Postgres, Redis, Celery worker and beat, several web processes."""

from django.core.exceptions import ImproperlyConfigured

from .base import *

DEBUG = False
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set to at least 50 random "
        "characters in production, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production: it carries the channel layer, the cache and "
        "the Celery broker shared by every web and worker process."
    )
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
