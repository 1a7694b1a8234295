"""The embedded demo and local development: one process, no external services needed.

SQLite, the in-memory channel layer and eager Celery tasks unless DATABASE_URL/REDIS_URL
say otherwise (they are read in base.py like everything else).
"""

from .base import *

DEBUG = True
SECRET_KEY = SECRET_KEY or "insecure-local-development-key-never-used-in-production"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Static files come straight from the app and static/ folders (no collectstatic here).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # type: ignore[assignment]
