"""Settings for every environment, read from the process environment in one place.

Each variable and its default is listed in docs/configuration.md. With no
DATABASE_URL the service runs on SQLite and with no broker on an embedded Celery
transport, so the quick start needs no services at all.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required unless DJANGO_DEBUG is on.")
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - development only
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "inventory",
    "orders_integration",
]

MIDDLEWARE = [
    # First, so that it times the whole answer (docs/monitoring.md).
    "inventory.metrics.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the process itself, before anything that needs a session.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # This policy on pages, a "load nothing" one on every other answer.
    "config.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a caller's successful write keeps its reads on the primary a while.
    "inventory.replica.PinWritersMiddleware",
    # The admin's language: the person's own (saved with the account), else the one picked on this
    # browser (a cookie), else the browser's. After authentication, which it needs.
    "inventory.admin.locale.BackOfficeLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Row locks must not be held for the length of a slow request: each service opens
# its own short transaction instead.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# SQLite (the quick start) has one writer at a time. A deferred transaction that reads and
# then writes fails at once with "database is locked" when another writer got there first;
# BEGIN IMMEDIATE takes the write lock up front, so it waits (up to `timeout` seconds)
# instead. WAL lets readers go on beside the writer. See docs/quickstart.md.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", transaction_mode="IMMEDIATE", timeout=20
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The services' hand-written statements are prepared on first use per connection and
# planned once, generically (config/db.py); the ORM's client-bound queries
# are never prepared, so neither setting touches them. Set DATABASE_PREPARED_STATEMENTS
# false behind a connection pooler in transaction mode.
# JIT is off: it compiles any query whose estimated cost is high, and the back office's
# counts are (the low-stock list's at 100,000 products: 124 of its 157 ms were JIT); short
# OLTP queries never gain from it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _server_options = ["-c jit=off"]
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
        _server_options.append("-c plan_cache_mode=force_generic_plan")
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(_server_options)

# --- A streaming replica for reads (docs/replica.md) ---------------------------------
# Unset: no second database and no router, everything on the primary. Set: the views that may
# (lists, log pages, the dashboard, the public checks) read from it while it keeps up.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    # A physical standby holds every database of the primary under the same names: it reads the one
    # DATABASE_URL names, whatever the replica's URL says (a process given another DATABASE_URL, as
    # the tests' and the benchmark's are, can never read another database's rows there).
    DATABASES["replica"]["NAME"] = DATABASES["default"]["NAME"]
    DATABASES["replica"].update(
        ATOMIC_REQUESTS=False, CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"], CONN_HEALTH_CHECKS=True
    )
    # A replica that is down must cost a request little: libpq's shortest connect timeout (2 s; a
    # stopped server refuses at once). The queries it serves are the ORM's, never prepared.
    DATABASES["replica"].setdefault("OPTIONS", {}).update(connect_timeout=2, options="-c jit=off")
    DATABASE_ROUTERS = ["inventory.replica.ReplicaRouter"]
INVENTORY_REPLICA_READS = env.bool("INVENTORY_REPLICA_READS", default=True)
# Seconds behind the primary beyond which the replica is skipped, and how long a caller reads
# from the primary after its own write (longer than the lag bound plus a check's age).
INVENTORY_REPLICA_MAX_LAG = env.float("INVENTORY_REPLICA_MAX_LAG", default=2.0)
INVENTORY_REPLICA_PIN_SECONDS = env.int("INVENTORY_REPLICA_PIN_SECONDS", default=5)

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Redis is an optimisation: fail fast rather than hang a request.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The back office's languages (docs/back-office.md); the catalogue is inventory/locale/.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "inventory" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# collectstatic (the Procfile's release) writes hashed, compressed copies that WhiteNoise
# serves with far-future cache headers; with DEBUG on, the unhashed names are used.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Production security (docs/operations.md) ---------------------------------------
# The server may sit behind a TLS proxy and be reached over plain HTTP, so every flag
# that assumes HTTPS is off until its variable turns it on.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# Load balancers probe over plain HTTP: a redirect would fail them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=False)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The header a trusted TLS proxy sets to "https" (e.g. X-Forwarded-Proto). Only name it
# when the proxy always sets it: otherwise a client could claim HTTPS itself.
_proxy_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# Every HTML page may load only this origin's own scripts, styles, images and fonts: no
# inline script or style (the admin's and the docs' are static files). data: images
# are the icons inside Swagger UI's stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Admin logins (django-axes): after DJANGO_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused, even with the right password, for
# DJANGO_LOGIN_COOLOFF_MINUTES. The API's tokens never pass through authenticate().
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The same client address as the API's throttles (INVENTORY_NUM_PROXIES).
AXES_CLIENT_IP_CALLABLE = "config.security.client_address"

# --- Email -------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="inventory@localhost")

# --- Inventory domain ----------------------------------------------------------
INVENTORY_RESERVATION_TTL = env.int("INVENTORY_RESERVATION_TTL", default=1800)
INVENTORY_CLEANUP_INTERVAL = env.int("INVENTORY_CLEANUP_INTERVAL", default=60)
INVENTORY_LOW_STOCK_RECIPIENTS = env.list("INVENTORY_LOW_STOCK_RECIPIENTS", default=[])
# "HH:MM" in TIME_ZONE: when Celery beat sends the daily low-stock digest.
INVENTORY_LOW_STOCK_DIGEST_TIME = env.str("INVENTORY_LOW_STOCK_DIGEST_TIME", default="07:00")
# Where people reach this service; emails link to the admin under it.
INVENTORY_BASE_URL = env.str("INVENTORY_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
INVENTORY_PUBLIC_THROTTLE = env.str("INVENTORY_PUBLIC_THROTTLE", default="600/minute")
# The sold-out gate (inventory/services/sold_out.py): with REDIS_URL, a reserve of a product sold out
# everywhere is answered from Redis. A flag lives at most INVENTORY_SOLD_OUT_TTL seconds (the longest a
# lost clear can hide stock that came back); a clear INVENTORY_SOLD_OUT_CLEAR_TTL (never less than a flag).
INVENTORY_SOLD_OUT_GATE = env.bool("INVENTORY_SOLD_OUT_GATE", default=True)
INVENTORY_SOLD_OUT_TTL = env.float("INVENTORY_SOLD_OUT_TTL", default=5.0)
INVENTORY_SOLD_OUT_CLEAR_TTL = env.float("INVENTORY_SOLD_OUT_CLEAR_TTL", default=60.0)
# The rebalancer of hot levels (inventory.rebalance_hot_levels): every N seconds, 0 turns it off.
INVENTORY_REBALANCE_INTERVAL = env.int("INVENTORY_REBALANCE_INTERVAL", default=30)

# --- Metrics (docs/monitoring.md) -------------------------------------------------
# The bearer token Prometheus sends to GET /metrics. Unset: /metrics is a 404, or open with DEBUG on.
# Multiprocess mode is PROMETHEUS_MULTIPROC_DIR, read by prometheus-client itself at import.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Celery --------------------------------------------------------------------
# Broker: CELERY_BROKER_URL, else REDIS_URL, else kombu's filesystem transport in
# var/celery so that `make run` works with no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_queue_dir),
        "data_folder_out": str(_celery_queue_dir),
        "control_folder": str(_celery_queue_dir / "control"),
    }
    # kombu does not create its folders; the first process to start does.
    (_celery_queue_dir / "control").mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
# No result backend, so no results to expire (and no beat job to expire them).
CELERY_RESULT_EXPIRES = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# The expiry job has a queue of its own, so a long run in a sale (100,000 holds) never
# holds up the digest or the purge, and its worker can be sized alone (the Procfile's
# `expiry` process; `worker` takes the default queue). A worker started without
# --queues takes both (`make run`'s single worker). Each queue is bound under its own
# name: with no routing key Celery binds both under `celery`, the default queue's.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = tuple(Queue(name, routing_key=name) for name in (CELERY_TASK_DEFAULT_QUEUE, "expiry"))
CELERY_TASK_ROUTES = {"inventory.expire_overdue_reservations": {"queue": "expiry"}}
# The database scheduler copies this schedule into its tables each time beat
# starts (from these environment variables); in between, ops see and change it
# in the admin under "Periodic tasks", where a task they disable stays disabled.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
try:
    _digest_hour, _digest_minute = (int(part) for part in INVENTORY_LOW_STOCK_DIGEST_TIME.split(":"))
    _digest_schedule = crontab(hour=_digest_hour, minute=_digest_minute)
except ValueError as error:
    raise ImproperlyConfigured(f"INVENTORY_LOW_STOCK_DIGEST_TIME must be HH:MM: {error}") from error
CELERY_BEAT_SCHEDULE = {
    "expire-overdue-reservations": {
        "task": "inventory.expire_overdue_reservations",
        "schedule": float(INVENTORY_CLEANUP_INTERVAL),
        # A run still queued when the next one is due is redundant: drop it.
        "options": {"expire_seconds": INVENTORY_CLEANUP_INTERVAL},
    },
    # Quotas past their end return what they set aside (reserves also do it lazily).
    "end-due-quotas": {
        "task": "inventory.end_due_quotas",
        "schedule": float(INVENTORY_CLEANUP_INTERVAL),
        "options": {"expire_seconds": INVENTORY_CLEANUP_INTERVAL},
    },
    "send-low-stock-digest": {
        "task": "inventory.send_low_stock_digest",
        "schedule": _digest_schedule,
    },
    "purge-idempotency-keys": {
        "task": "inventory.purge_idempotency_keys",
        "schedule": crontab(hour="3", minute="15"),
    },
    # Yesterday's demand is complete after midnight UTC: classes, forecasts and reorder points for the day.
    "refresh-plans": {
        "task": "inventory.refresh_plans",
        "schedule": crontab(hour="2", minute="30"),
    },
    # After the planning run, so that the classes are today's: the day's sheets are there when counting starts.
    "propose-cycle-counts": {
        "task": "inventory.propose_cycle_counts",
        "schedule": crontab(hour="4", minute="0"),
    },
    # Yesterday's figures of every changed row, once its last transactions have committed (docs/snapshots.md).
    "take-snapshot": {
        "task": "inventory.take_snapshot",
        "schedule": crontab(hour="0", minute="10"),
    },
}
if INVENTORY_REBALANCE_INTERVAL:
    CELERY_BEAT_SCHEDULE["rebalance-hot-levels"] = {
        "task": "inventory.rebalance_hot_levels",
        "schedule": float(INVENTORY_REBALANCE_INTERVAL),
        "options": {"expire_seconds": INVENTORY_REBALANCE_INTERVAL},
    }

# --- Logging -------------------------------------------------------------------
# `inventory.stock` writes one JSON line per committed change of stock, and for a batch
# job's changes (the expiry of overdue holds) what INVENTORY_BATCH_LOG_LINES says:
# "each", a line per ledger entry like any change, or "summary", one line per committed
# batch (operation, actor, how many entries and units over how many products and
# warehouses, and the range of log ids that holds them). "summary" by default: the
# ledger keeps every entry whichever is chosen, and the lines of a job's entries are the
# ledger over again, written in bulk when the machine is busiest (100,000 lines for the
# expiry after a sale, 60% of the job's CPU). Set "each" where a log pipeline must see
# every change; a single change (reserve, release, deduct, restock, ...) is always one
# line per entry.
INVENTORY_BATCH_LOG_LINES = env.str("INVENTORY_BATCH_LOG_LINES", default="summary")
if INVENTORY_BATCH_LOG_LINES not in ("each", "summary"):
    raise ImproperlyConfigured(
        f'INVENTORY_BATCH_LOG_LINES must be "each" or "summary", not {INVENTORY_BATCH_LOG_LINES!r}.'
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A 4xx is an answer, not a fault: a sold-out product gives thousands of 409s a
        # minute in a sale, and each would be a WARNING line. The access log has them;
        # 5xx answers are still logged here as errors.
        "django.request": {"level": env.str("DJANGO_REQUEST_LOG_LEVEL", default="ERROR")},
    },
}

# --- HTTP API (Django REST framework) ------------------------------------------
REST_FRAMEWORK = {
    # The token scheme first: an anonymous call of a protected endpoint is a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inventory.api.authentication.ApiClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PARSER_CLASSES": ["inventory.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "inventory.api.pagination.ContractPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "EXCEPTION_HANDLER": "inventory.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # How many proxies in front of the app append to X-Forwarded-For; 0 means the
    # client address is REMOTE_ADDR (a client cannot pick its own throttle bucket).
    "NUM_PROXIES": env.int("INVENTORY_NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "STRICT_JSON": True,
}
# Largest request body the API parses; a larger one is a 413 before it is read whole.
INVENTORY_API_MAX_BODY_BYTES = env.int("INVENTORY_API_MAX_BODY_BYTES", default=1024 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Inventory API",
    "DESCRIPTION": (
        "Stock, reservations and the ledger of the shop. Every error answer has the body "
        '`{"error": {"code", "message", "details"}}`. Every path answers with and without a '
        "trailing slash. Public endpoints are throttled per client address (429 `throttled`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "inventory.api.schema.complete_schema",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ReservationStatusEnum": "inventory.models.ReservationStatus",
        "TransferStatusEnum": "inventory.models.TransferStatus",
        "PurchaseOrderStatusEnum": "inventory.models.PurchaseOrderStatus",
        # A quota's and a pre-sale's statuses are the same choices: one enum.
        "ActiveOrEndedEnum": "inventory.models.QuotaStatus",
        "BackorderStatusEnum": "inventory.models.BackorderStatus",
        "LogOperationEnum": "inventory.models.LogOperation",
        "ErrorCodeEnum": "inventory.api.errors.ERROR_CODES",
    },
}
