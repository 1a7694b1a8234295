"""Settings shared by every environment.

Every value that comes from the environment is read here and nowhere else, through
django-environ. A value that cannot be parsed stops the process at start with a message
naming the variable, instead of running with a silently wrong default.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# FileAwareEnv also reads FOO_FILE (a path) for any FOO: secrets can come from files
# (Docker/Kubernetes secrets) instead of the environment.
env = environ.FileAwareEnv()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(_dotenv)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A strict boolean: 'maybe' is an error, not False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.str(name, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_rate(name: str, default: str) -> str:
    """A rate in the `limits` library's notation: "30/minute", "10 per 5 seconds", or several
    joined by ";" ("20/minute;200/hour"), all of which must hold."""
    from limits import parse_many

    raw = env.str(name, default=default).strip()
    try:
        parse_many(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 30/minute or 10/5seconds (several joined by ;), "
            f"got {raw!r}"
        ) from None
    return raw


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    raw = env.str(name, default=default).strip()
    if not raw:
        return ""
    scheme = urlsplit(raw).scheme
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(s + '://' for s in schemes)}; got {raw!r}"
        )
    return raw


# --- Values read from the environment -------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{BASE_DIR / 'var' / 'kefu.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
EMAIL_URL = env_url(
    "EMAIL_URL", "consolemail://", schemes=("consolemail", "smtp", "smtps", "memorymail")
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="kefu@localhost")
# Where staff open the back office: links in notification emails start with this.
KEFU_SITE_URL = env_url("KEFU_SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))
TIME_ZONE = env.str("KEFU_TIME_ZONE", default="Asia/Shanghai")
LOG_LEVEL = env.str("KEFU_LOG_LEVEL", default="INFO").upper()
# Without Redis, Celery runs tasks in the calling process (the embedded demo).
CELERY_TASK_ALWAYS_EAGER = env_bool("KEFU_TASKS_EAGER", default=not REDIS_URL)
# Fire the periodic jobs from inside the web process (demo only; the full stack uses beat).
KEFU_INPROCESS_BEAT = env_bool("KEFU_INPROCESS_BEAT", default=False)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Health checks come over plain HTTP from inside the host or container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Plain-HTTP runs of the production settings on 127.0.0.1 (`make up`) turn these off.
SECURE_COOKIES = env_bool("DJANGO_SECURE_COOKIES", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
# Sign-in lockout (django-axes, agents/lockout.py): failed sign-ins within the cool-off
# that lock, per username and address; per username from any address (higher: anyone can
# try a name, so a low count would let anyone lock a colleague out); per address across
# usernames (highest: a whole office may sign in from one address).
AXES_FAILURE_LIMIT = env_int("KEFU_LOGIN_FAILURE_LIMIT", 5, minimum=1)
KEFU_LOGIN_FAILURE_LIMIT_PER_USER = env_int("KEFU_LOGIN_FAILURE_LIMIT_PER_USER", 20, minimum=1)
KEFU_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int(
    "KEFU_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 50, minimum=1
)
KEFU_LOGIN_COOLOFF_MINUTES = env_int("KEFU_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
# Reverse proxies in front of Kefu that append the address they saw to X-Forwarded-For
# (core/addresses.py). 0 trusts no header: the client is the connection's own address.
KEFU_TRUSTED_PROXY_COUNT = env_int("KEFU_TRUSTED_PROXY_COUNT", 0)
# Request bodies larger than this are refused (413) before they are read
# (core/body_limit.py): the upload routes get the upload cap (a 10 MB file and the form
# around it), every other request the general one (Django's own 2.5 MB form default).
KEFU_MAX_BODY_BYTES = env_int("KEFU_MAX_BODY_BYTES", 2_621_440, minimum=64 * 1024)
KEFU_MAX_UPLOAD_BODY_BYTES = env_int(
    "KEFU_MAX_UPLOAD_BODY_BYTES", 11 * 1024 * 1024, minimum=64 * 1024
)
# Rate limits (core/ratelimits.py, docs/security.md). Counted in Redis when REDIS_URL is
# set (shared by every web process), in process memory otherwise (the demo).
KEFU_RATE_LIMITS_ENABLED = env_bool("KEFU_RATE_LIMITS_ENABLED", True)
# New chat sessions (visitors) per client address; resuming a session is not counted.
KEFU_RATE_CHAT_SESSIONS = env_rate("KEFU_RATE_CHAT_SESSIONS", "30/minute")
# Conversations started, per client address and per visitor.
KEFU_RATE_CONVERSATIONS_PER_ADDRESS = env_rate("KEFU_RATE_CONVERSATIONS_PER_ADDRESS", "20/minute")
KEFU_RATE_CONVERSATIONS_PER_VISITOR = env_rate("KEFU_RATE_CONVERSATIONS_PER_VISITOR", "10/hour")
# Customers' files: uploads per visitor, megabytes per visitor and per client address.
KEFU_RATE_UPLOADS_PER_VISITOR = env_rate("KEFU_RATE_UPLOADS_PER_VISITOR", "10/minute")
KEFU_RATE_UPLOAD_MB_PER_VISITOR = env_rate("KEFU_RATE_UPLOAD_MB_PER_VISITOR", "100/hour")
KEFU_RATE_UPLOAD_MB_PER_ADDRESS = env_rate("KEFU_RATE_UPLOAD_MB_PER_ADDRESS", "300/hour")
# Staff files (chat attachments and ticket attachments together), per user.
KEFU_RATE_UPLOADS_PER_USER = env_rate("KEFU_RATE_UPLOADS_PER_USER", "30/minute")
KEFU_RATE_UPLOAD_MB_PER_USER = env_rate("KEFU_RATE_UPLOAD_MB_PER_USER", "1000/hour")
# `send` frames per chat socket: a burst of 10, then 2 a second (customers); agents paste
# and use canned replies, so theirs is far higher. Counted in the socket's own process.
KEFU_RATE_VISITOR_SOCKET_SENDS = env_rate("KEFU_RATE_VISITOR_SOCKET_SENDS", "10/5seconds")
KEFU_RATE_AGENT_SOCKET_SENDS = env_rate("KEFU_RATE_AGENT_SOCKET_SENDS", "60/10seconds")
# Refused frames a socket may collect before it is closed with 4429 (agents/sockets.py).
KEFU_RATE_SOCKET_REFUSALS = env_rate("KEFU_RATE_SOCKET_REFUSALS", "30/minute")
DB_CONN_MAX_AGE = env_int("KEFU_DB_CONN_MAX_AGE", 60)
# PostgreSQL: a connection pool per process (Django's, on psycopg_pool). Under ASGI every
# request runs on a fresh thread, so without a pool each one opened a new connection
# (~7 ms); with it, KEFU_DB_CONN_MAX_AGE does not apply.
DB_POOL = env_bool("KEFU_DB_POOL", True)
DB_POOL_MIN_SIZE = env_int("KEFU_DB_POOL_MIN_SIZE", 2, minimum=0)
DB_POOL_MAX_SIZE = env_int("KEFU_DB_POOL_MAX_SIZE", 20, minimum=1)
# Seconds a request waits for a free connection before it fails.
DB_POOL_TIMEOUT = env_int("KEFU_DB_POOL_TIMEOUT", 10, minimum=1)
# Connections one process may open to Redis for the channel layer.
REDIS_MAX_CONNECTIONS = env_int("KEFU_REDIS_MAX_CONNECTIONS", 1000, minimum=10)
# Outbound webhooks: attempts before a delivery gives up, and the first retry's delay
# (doubling each time, with jitter, capped at KEFU_WEBHOOK_BACKOFF_CAP_SECONDS).
KEFU_WEBHOOK_MAX_ATTEMPTS = env_int("KEFU_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
KEFU_WEBHOOK_BACKOFF_BASE_SECONDS = env_int("KEFU_WEBHOOK_BACKOFF_BASE_SECONDS", 30, minimum=1)
KEFU_WEBHOOK_BACKOFF_CAP_SECONDS = env_int("KEFU_WEBHOOK_BACKOFF_CAP_SECONDS", 6 * 3600, minimum=1)
# Finished deliveries (succeeded / gave up) are deleted from the log after this many days.
KEFU_WEBHOOK_LOG_RETENTION_DAYS = env_int("KEFU_WEBHOOK_LOG_RETENTION_DAYS", 30, minimum=1)
# Chat sockets run their database calls on a thread pool (each thread keeps a connection)
# instead of queueing them all behind Django's one thread-sensitive worker thread.
CHAT_DB_THREAD_POOL = env_bool("KEFU_CHAT_DB_THREAD_POOL", True)
# Its size: at most this many chat database calls (and connections) per web process.
# A message is one short statement: a few threads keep up with hundreds a second, and
# more only contend for the GIL with the event loop (measured in bench/README.md).
CHAT_DB_THREADS = env_int("KEFU_CHAT_DB_THREADS", 4, minimum=1)
# Back-office sockets re-check their user's rights this often (seconds), in case the
# doorbell of a sign-out, deactivation or role change was lost (agents/sockets.py).
KEFU_SOCKET_RECHECK_SECONDS = env_int("KEFU_SOCKET_RECHECK_SECONDS", 60, minimum=5)
# A customer socket that has not said `hello` after this many seconds is closed (4401).
KEFU_SOCKET_HELLO_SECONDS = env_int("KEFU_SOCKET_HELLO_SECONDS", 10, minimum=1)
# Each web process pings itself through the channel layer this often (seconds) and tells
# its sockets to resync when the layer comes back after an outage (core/layer_watch.py).
KEFU_LAYER_WATCH_SECONDS = env_int("KEFU_LAYER_WATCH_SECONDS", 5, minimum=1)
# Redis pub/sub channel names are global across Redis database numbers: installations (or
# test runs) sharing one Redis keep apart by prefix.
CHANNEL_PREFIX = env.str("KEFU_CHANNEL_PREFIX", default="asgi")
# Uploaded files (chat and ticket attachments): a directory (var/media, a volume in
# docker-compose.yml) or an S3-compatible bucket that every web and worker process shares.
KEFU_MEDIA_STORAGE = env.str("KEFU_MEDIA_STORAGE", default="filesystem").strip().lower()
KEFU_S3_BUCKET = env.str("KEFU_S3_BUCKET", default="").strip()
# Empty for AWS itself; the address of MinIO, Ceph, OSS, COS, R2, ... otherwise. Downloads
# are redirected to it, so browsers must reach it under this name.
KEFU_S3_ENDPOINT_URL = env_url("KEFU_S3_ENDPOINT_URL", "", schemes=("http", "https"))
KEFU_S3_REGION = env.str("KEFU_S3_REGION", default="").strip()
# Both empty: boto3 finds credentials itself (instance role, ~/.aws, AWS_* variables).
KEFU_S3_ACCESS_KEY_ID = env.str("KEFU_S3_ACCESS_KEY_ID", default="").strip()
KEFU_S3_SECRET_ACCESS_KEY = env.str("KEFU_S3_SECRET_ACCESS_KEY", default="").strip()
# "path" for most self-hosted servers (MinIO); "virtual" (bucket.host) or "auto" for AWS.
KEFU_S3_ADDRESSING_STYLE = env.str("KEFU_S3_ADDRESSING_STYLE", default="auto").strip().lower()
# How long a download link handed out after the access check stays valid.
KEFU_S3_URL_EXPIRE_SECONDS = env_int("KEFU_S3_URL_EXPIRE_SECONDS", 60, minimum=1)
# ---------------------------------------------------------------------------------------

if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"KEFU_LOG_LEVEL must be a logging level name, got {LOG_LEVEL!r}")

try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"KEFU_TIME_ZONE is not a known time zone: {TIME_ZONE!r}") from None

DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo serves HTTP and websockets from threads of one process: WAL lets readers
    # and the writer proceed together, and a busy timeout waits instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DB_POOL:
    if DB_POOL_MIN_SIZE > DB_POOL_MAX_SIZE:
        raise ImproperlyConfigured("KEFU_DB_POOL_MIN_SIZE may not exceed KEFU_DB_POOL_MAX_SIZE")
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DB_POOL_MIN_SIZE,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "csp",
    # Kefu's own apps, one per domain.
    "core",
    "agents",
    "commerce",
    "settings_app",
    "integrations",
    "knowledge",
    "workbench",
    "service_orders",
    "tickets",
    "monitoring",
    "reports",
    "demo",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Refuses before any view (and before the CSRF check, which runs in process_view):
    # its answer changes nothing, so it needs no token.
    "core.middleware.RefuseUnstorableTextMiddleware",
    # Turns a service's RateLimited into 429 + Retry-After (core/ratelimits.py).
    "core.middleware.RateLimitedMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in user's own language beats the browser's.
    "agents.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_USER_MODEL = "agents.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agents.context_processors.navigation",
            ],
        },
    },
]

# --- Internationalisation ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True

# --- Static and media ---
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = BASE_DIR / "var" / "media"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if KEFU_MEDIA_STORAGE == "s3":
    if not KEFU_S3_BUCKET:
        raise ImproperlyConfigured("KEFU_S3_BUCKET must be set when KEFU_MEDIA_STORAGE=s3")
    if bool(KEFU_S3_ACCESS_KEY_ID) != bool(KEFU_S3_SECRET_ACCESS_KEY):
        raise ImproperlyConfigured(
            "Set both KEFU_S3_ACCESS_KEY_ID and KEFU_S3_SECRET_ACCESS_KEY, or neither"
        )
    if KEFU_S3_ADDRESSING_STYLE not in {"auto", "path", "virtual"}:
        raise ImproperlyConfigured(
            f"KEFU_S3_ADDRESSING_STYLE must be auto, path or virtual, "
            f"got {KEFU_S3_ADDRESSING_STYLE!r}"
        )
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": KEFU_S3_BUCKET,
            "endpoint_url": KEFU_S3_ENDPOINT_URL or None,
            "region_name": KEFU_S3_REGION or None,
            "access_key": KEFU_S3_ACCESS_KEY_ID or None,
            "secret_key": KEFU_S3_SECRET_ACCESS_KEY or None,
            "addressing_style": None
            if KEFU_S3_ADDRESSING_STYLE == "auto"
            else (KEFU_S3_ADDRESSING_STYLE),
            "signature_version": "s3v4",
            # Attachments are private: every URL is signed and short-lived, handed out only
            # after the view's access check (core.files.file_response). No custom domain:
            # django-storages would build unsigned public URLs for it.
            "querystring_auth": True,
            "querystring_expire": KEFU_S3_URL_EXPIRE_SECONDS,
            "default_acl": None,
            # Two uploads with one name (two "photo.jpg" on a ticket) must both survive;
            # the backend's default would overwrite the first.
            "file_overwrite": False,
        },
    }
elif KEFU_MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured(
        f"KEFU_MEDIA_STORAGE must be filesystem or s3, got {KEFU_MEDIA_STORAGE!r}"
    )

# --- Cache, channel layer, Celery: Redis when REDIS_URL is set, in-process otherwise ---
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kefu",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: no per-channel capacity to overflow, and about 5x cheaper per
            # group_send than the list-based layer. Delivery is best effort either way:
            # the database is the record and clients catch up after a reconnect.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # redis-py's async pool stops at 100 connections unless told otherwise, which
            # turned connection bursts into HTTP 500s in load tests.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": REDIS_MAX_CONNECTIONS}],
                "prefix": CHANNEL_PREFIX,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # limits spells a Unix socket redis+unix://.
    KEFU_RATE_STORAGE_URL = f"redis+{REDIS_URL}" if REDIS_URL.startswith("unix:") else REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    KEFU_RATE_STORAGE_URL = "memory://"
# Keys of the rate-limit counters start with this (tests give theirs a prefix of their own).
KEFU_RATE_KEY_PREFIX = "kefu-rate"

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# The periodic jobs. Celery beat runs them in the full stack; in the embedded demo the
# in-process scheduler (core.beat) reads this same table and calls the same tasks.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "core-heartbeat": {"task": "core.tasks.scheduler_heartbeat", "schedule": 30.0},
    # Picks up webhook retries that are due (and deliveries whose first task was lost).
    "webhooks-deliver-due": {"task": "integrations.tasks.webhook_deliver_due", "schedule": 30.0},
    "webhooks-purge-log": {"task": "integrations.tasks.webhook_purge_log", "schedule": 3600.0},
    # Tickets: assign what waited for working hours or for someone on duty; reassign
    # tickets left untouched; send SLA reminders and breach escalations.
    "tickets-assign-waiting": {"task": "tickets.assign_waiting", "schedule": 60.0},
    "tickets-reassign-untouched": {"task": "tickets.reassign_untouched", "schedule": 60.0},
    "tickets-sla-sweep": {"task": "tickets.sla_sweep", "schedule": 30.0},
    # Safety net behind on-commit routing: nobody waits forever if a routing task was lost.
    "workbench-drain-queues": {"task": "workbench.drain_all_queues", "schedule": 30.0},
    # The API's Idempotency-Key records live 24 hours.
    "tickets-purge-idempotency-keys": {
        "task": "tickets.purge_idempotency_keys",
        "schedule": 3600.0,
    },
}

# --- Email ---
_email = environ.Env.email_url_config(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))

# --- Security that holds in every environment ---
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # Our own JS reads it to send X-CSRFToken.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Images in the agents' console are redirected to signed links on the bucket's host.
_MEDIA_ORIGINS: list[str] = []
if KEFU_MEDIA_STORAGE == "s3":
    if KEFU_S3_ENDPOINT_URL:
        _endpoint = urlsplit(KEFU_S3_ENDPOINT_URL)
        _MEDIA_ORIGINS = [f"{_endpoint.scheme}://{_endpoint.netloc}"]
        if KEFU_S3_ADDRESSING_STYLE != "path":
            _MEDIA_ORIGINS.append(f"{_endpoint.scheme}://*.{_endpoint.netloc}")
    else:
        _MEDIA_ORIGINS = ["https://*.amazonaws.com"]
# django-csp 4: no inline scripts or styles anywhere; everything comes from /static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # blob: for files the chat window fetched with the visitor token and shows itself.
        "img-src": ["'self'", "data:", "blob:", *_MEDIA_ORIGINS],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Login lockout (django-axes) ---
AXES_COOLOFF_TIME = timedelta(minutes=KEFU_LOGIN_COOLOFF_MINUTES)
# Each group is counted against its own limit (agents.lockout.LockoutHandler): the pair
# against KEFU_LOGIN_FAILURE_LIMIT, the username against ..._PER_USER, the address
# against ..._PER_ADDRESS.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_HANDLER = "agents.lockout.LockoutHandler"
# The one answer to "which address is this client" (core/addresses.py), for the lockout
# and the rate limits alike.
AXES_CLIENT_IP_CALLABLE = "core.addresses.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kefu API",
    "DESCRIPTION": "Customer-service back office: tickets, customers, conversations.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Choice sets that appear under several fields get one stable name each.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "HoldReasonEnum": "tickets.models.Ticket.HoldReason",
        "PriorityEnum": "tickets.models.Priority",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
