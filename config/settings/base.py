"""Settings shared by every environment. Everything an operator may change is read from the environment here,
in one place; the per-environment modules only adjust defaults."""

import os
from datetime import timedelta
from pathlib import Path

import environ

from config.settings.safety import (
    DEVELOPMENT_INTERNAL_TOKEN,
    DEVELOPMENT_SANDBOX_WEBHOOK_SECRET,
    DEVELOPMENT_SECRET_KEY,
    refuse_unsafe_settings,
)
from ecommerce.deployment import MODES, SPLIT
from ecommerce.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Development defaults: any process with DEBUG off refuses them (config/settings/safety.py).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

# --- Deployment shape -------------------------------------------------------------------------------------------
ECOMMERCE_DEPLOYMENT_MODE = env.str("ECOMMERCE_DEPLOYMENT_MODE", default="monolith")
ECOMMERCE_SERVICE_ROLE = env.str("ECOMMERCE_SERVICE_ROLE", default="")
ECOMMERCE_SERVICE_URLS = env.dict("ECOMMERCE_SERVICE_URLS", default={})
# Contract calls travel through the real serialisation path even in one process when this is set (tests).
ECOMMERCE_RPC_LOOPBACK = env.bool("ECOMMERCE_RPC_LOOPBACK", default=False)
# Signs and checks internal calls; needed only where they are made or served (split roles, loopback tests).
INTERNAL_AUTH_TOKEN = env.str("INTERNAL_AUTH_TOKEN", default=DEVELOPMENT_INTERNAL_TOKEN)
# Extra secrets still accepted on incoming calls while INTERNAL_AUTH_TOKEN is being rotated.
INTERNAL_AUTH_TOKENS_ACCEPTED = env.list("INTERNAL_AUTH_TOKENS_ACCEPTED", default=[])
ECOMMERCE_RPC_TIMEOUT_SECONDS = env.float("ECOMMERCE_RPC_TIMEOUT_SECONDS", default=5.0)
ECOMMERCE_RPC_MAX_CLOCK_SKEW_SECONDS = env.int("ECOMMERCE_RPC_MAX_CLOCK_SKEW_SECONDS", default=60)
# Where OpenTelemetry spans go: none, console (JSON lines on stdout) or otlp (OTEL_EXPORTER_OTLP_ENDPOINT); see
# ecommerce/tracing.py. The older ECOMMERCE_TRACING=1 still means console.
ECOMMERCE_TRACING_EXPORTER = env.str("ECOMMERCE_TRACING_EXPORTER",
                                     default="console" if env.bool("ECOMMERCE_TRACING", default=False) else "none")
if ECOMMERCE_TRACING_EXPORTER not in {"none", "console", "otlp"}:
    raise environ.ImproperlyConfigured("ECOMMERCE_TRACING_EXPORTER must be none, console or otlp")

if ECOMMERCE_DEPLOYMENT_MODE not in MODES:
    raise environ.ImproperlyConfigured(f"ECOMMERCE_DEPLOYMENT_MODE must be one of {', '.join(MODES)}")

# --- Shop -------------------------------------------------------------------------------------------------------
ECOMMERCE_CURRENCY = env.str("ECOMMERCE_CURRENCY", default="USD")
ECOMMERCE_SHIPPING_FLAT = env.str("ECOMMERCE_SHIPPING_FLAT", default="5.00")
ECOMMERCE_FREE_SHIPPING_FROM = env.str("ECOMMERCE_FREE_SHIPPING_FROM", default="100.00")
ECOMMERCE_ORDER_TTL_MINUTES = env.int("ECOMMERCE_ORDER_TTL_MINUTES", default=30)
# Unpaid orders hold stock; one user may hold at most this many at once (0: no cap).
ECOMMERCE_MAX_OPEN_ORDERS_PER_USER = env.int("ECOMMERCE_MAX_OPEN_ORDERS_PER_USER", default=5)
if ECOMMERCE_MAX_OPEN_ORDERS_PER_USER < 0:
    raise environ.ImproperlyConfigured("ECOMMERCE_MAX_OPEN_ORDERS_PER_USER must be 0 (no cap) or a positive number")
# A guest cart nobody changed for this long is expired (its token answers 404) and purged by a periodic job.
ECOMMERCE_GUEST_CART_TTL_HOURS = env.int("ECOMMERCE_GUEST_CART_TTL_HOURS", default=168)
if ECOMMERCE_GUEST_CART_TTL_HOURS < 1:
    raise environ.ImproperlyConfigured("ECOMMERCE_GUEST_CART_TTL_HOURS must be at least 1")
ECOMMERCE_LOW_STOCK_THRESHOLD = env.int("ECOMMERCE_LOW_STOCK_THRESHOLD", default=5)
ECOMMERCE_THROTTLE_ANON = env.str("ECOMMERCE_THROTTLE_ANON", default="300/min")
ECOMMERCE_THROTTLE_USER = env.str("ECOMMERCE_THROTTLE_USER", default="1200/min")
# Failed sign-ins (API and admin alike, ecommerce/auth_limits.py): per account from one client, per client, and a
# per-account ceiling far above what a person types, reached only by guesses from many clients.
ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP = env.str("ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP",
                                                       default="10/15min")
ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP = env.str("ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP", default="100/15min")
ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT = env.str("ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT", default="100/15min")
# Password-reset e-mails: per client and per account (over either, the request is answered as usual, nothing sent).
ECOMMERCE_THROTTLE_PASSWORD_RESET_IP = env.str("ECOMMERCE_THROTTLE_PASSWORD_RESET_IP", default="20/hour")
ECOMMERCE_THROTTLE_PASSWORD_RESET_ACCOUNT = env.str("ECOMMERCE_THROTTLE_PASSWORD_RESET_ACCOUNT", default="3/hour")
# Registrations per client, every attempt counted (a form that answers "taken" tells which addresses have accounts).
ECOMMERCE_THROTTLE_REGISTER_IP = env.str("ECOMMERCE_THROTTLE_REGISTER_IP", default="20/hour")
# Verification e-mails asked for again: per account and per client (over either: 429).
ECOMMERCE_THROTTLE_VERIFY_EMAIL_ACCOUNT = env.str("ECOMMERCE_THROTTLE_VERIFY_EMAIL_ACCOUNT", default="5/hour")
ECOMMERCE_THROTTLE_VERIFY_EMAIL_IP = env.str("ECOMMERCE_THROTTLE_VERIFY_EMAIL_IP", default="20/hour")
ECOMMERCE_IDEMPOTENCY_TTL_SECONDS = env.int("ECOMMERCE_IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
# Pagination links start with this (e.g. https://shop.example.com) when it is set, else they are relative: they are
# never built from the request's Host header, which a client chooses.
ECOMMERCE_PUBLIC_BASE_URL = env.str("ECOMMERCE_PUBLIC_BASE_URL", default="").rstrip("/")
# /metrics answers only a request bearing this token; without one it is not served at all.
ECOMMERCE_METRICS_TOKEN = env.str("ECOMMERCE_METRICS_TOKEN", default="")
ECOMMERCE_FRONTEND_PASSWORD_RESET_URL = env.str(
    "ECOMMERCE_FRONTEND_PASSWORD_RESET_URL", default="http://localhost:3000/password-reset/{uid}/{token}"
)
ECOMMERCE_FRONTEND_VERIFY_EMAIL_URL = env.str(
    "ECOMMERCE_FRONTEND_VERIFY_EMAIL_URL", default="http://localhost:3000/verify-email/{token}"
)
# How long the link of a verification e-mail works.
ECOMMERCE_EMAIL_VERIFICATION_TTL_HOURS = env.int("ECOMMERCE_EMAIL_VERIFICATION_TTL_HOURS", default=48)
# Whether an account must have verified its e-mail address to check out (off: today's clients keep working).
ECOMMERCE_REQUIRE_VERIFIED_EMAIL = env.bool("ECOMMERCE_REQUIRE_VERIFIED_EMAIL", default=False)
# A refresh token presented again within this many seconds of its rotation is a client racing itself (two tabs),
# answered 401 without ending its family; any later reuse ends the family (apps/users/services/sessions.py).
ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS = env.int("ECOMMERCE_REFRESH_REUSE_GRACE_SECONDS", default=2)

# --- Payments ---------------------------------------------------------------------------------------------------
# The provider new payments are made with, and the only one whose webhooks are accepted: sandbox or stripe.
ECOMMERCE_PAYMENT_PROVIDER = env.str("ECOMMERCE_PAYMENT_PROVIDER", default="sandbox")
if ECOMMERCE_PAYMENT_PROVIDER not in {"sandbox", "stripe"}:
    raise environ.ImproperlyConfigured("ECOMMERCE_PAYMENT_PROVIDER must be 'sandbox' or 'stripe'")
# A payment awaiting the shopper's confirmation keeps its pending order from expiring for up to this long.
ECOMMERCE_PAYMENT_WINDOW_MINUTES = env.int("ECOMMERCE_PAYMENT_WINDOW_MINUTES", default=15)
# Where the sandbox processor posts its webhooks: the public webhook endpoint (the gateway's, in a split deployment).
ECOMMERCE_SANDBOX_WEBHOOK_URL = env.str("ECOMMERCE_SANDBOX_WEBHOOK_URL",
                                        default="http://127.0.0.1:8000/api/v1/payments/webhooks/sandbox")
# The sandbox signs every webhook with each of these and the shop accepts any of them (rotation: add, then remove).
ECOMMERCE_SANDBOX_WEBHOOK_SECRETS = env.list("ECOMMERCE_SANDBOX_WEBHOOK_SECRETS",
                                             default=[DEVELOPMENT_SANDBOX_WEBHOOK_SECRET])
# Without a broker, the sandbox's first webhook delivery runs on a background thread of the process that took the
# card, after commit, never inside the shopper's request (tests turn it off: they run the delivery task themselves).
ECOMMERCE_SANDBOX_DELIVER_IN_BACKGROUND = True
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
# Every signing secret (whsec_...) of the Stripe endpoint that is accepted; several while one is being rolled.
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])

# --- Applications -----------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_prometheus",
    "ecommerce.events",
    "apps.users",
    "apps.products",
    "apps.carts",
    "apps.orders",
    "apps.orders.sandbox_processor",
    "apps.gateway",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "ecommerce.middleware.RequestIDMiddleware",
    # Outside every middleware that may answer an error itself, so none of them can show an HTML page on the API.
    "ecommerce.api.problems.ProblemDetailsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and the API docs' static files from any role, with far-future caching; no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A signed-in caller's read of their own cart, answered from the cache before the rest of the stack (see the
    # module; only where the public API is served).
    "apps.gateway.cart_middleware.SignedInCartMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns an admin sign-in refused by the shared limits into a 429 (ecommerce/admin_sign_in.py).
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The shared kernel's templates (the admin's error pages); apps keep theirs in their own folders.
        "DIRS": [BASE_DIR / "ecommerce" / "templates"],
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
# The admin's CSV import keeps the uploaded file between its preview and its confirmation in the shared cache, so
# the confirmation may reach any process of the role.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"

# --- Data stores ------------------------------------------------------------------------------------------------
# An empty DATABASE_URL means "not set", like every other URL here.
_database_url = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # DATABASE_POOL_MAX_SIZE > 0: the threads of a process share a psycopg pool of at most that many connections.
    # 0 (the default): each thread keeps its own connection for DATABASE_CONN_MAX_AGE seconds, checked before
    # reuse. `make bench` compares both (bench/results.md); see the README's performance section.
    DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
    if DATABASE_POOL_MAX_SIZE > 0:
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "pool": {"min_size": 1, "max_size": DATABASE_POOL_MAX_SIZE, "timeout": 10},
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default must take concurrent writes from a threaded or multi-process server. In WAL mode readers
    # never block the one writer; a writer waits up to `timeout` seconds for the lock instead of failing at once; and
    # every transaction takes the write lock when it begins (IMMEDIATE), because SQLite cannot make a transaction
    # that started as a reader wait to become a writer: it fails with "database is locked" at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("ECOMMERCE_CACHE_PREFIX", default="ecommerce"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ecommerce"}}
# Catalog answers are cached as rendered bytes and invalidated through versions in the shared cache (see
# apps/gateway/api/catalog_reads.py); this bounds an entry's life whatever happens, 0 turns the cache off. Split
# roles without a shared cache could not tell the gateway about changes, so there it is off unless REDIS_URL is set.
ECOMMERCE_CATALOG_CACHE_SECONDS = env.int(
    "ECOMMERCE_CATALOG_CACHE_SECONDS", default=300 if REDIS_URL or ECOMMERCE_DEPLOYMENT_MODE == "monolith" else 0)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Prefixes every exchange and queue name the shop declares, so deployments (or test runs) can share a vhost.
ECOMMERCE_BROKER_NAMESPACE = env.str("ECOMMERCE_BROKER_NAMESPACE", default="")
# Without a broker every task runs in-process, so a bare machine still behaves end to end.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A late-acknowledged task cannot be acknowledged once the connection is gone; the broker redelivers it, so the copy
# still running is cancelled rather than left to finish twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = f"{ECOMMERCE_BROKER_NAMESPACE}celery"
CELERY_CONTROL_EXCHANGE = f"{ECOMMERCE_BROKER_NAMESPACE}celery"
CELERY_EVENT_EXCHANGE = f"{ECOMMERCE_BROKER_NAMESPACE}celeryev"

# --- Events -----------------------------------------------------------------------------------------------------
# A consumer that fails is tried again after each of these delays (seconds), then its message is dead-lettered.
ECOMMERCE_EVENT_RETRY_DELAYS = env.list("ECOMMERCE_EVENT_RETRY_DELAYS", cast=int, default=[10, 60, 300])
# A consumer gives up waiting for a row lock after this long (the attempt then counts as failed and is retried).
ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS = env.float("ECOMMERCE_EVENT_LOCK_TIMEOUT_SECONDS", default=10.0)
# An outbox row that could not be published waits 2, 4, 8 ... seconds before the next try, at most this long.
ECOMMERCE_OUTBOX_RETRY_MAX_SECONDS = env.int("ECOMMERCE_OUTBOX_RETRY_MAX_SECONDS", default=60)
# Published events and consumers' processed-event rows are forgotten after this many days.
ECOMMERCE_EVENTS_KEEP_DAYS = env.int("ECOMMERCE_EVENTS_KEEP_DAYS", default=30)
# Catalog staff get at most one low-stock e-mail per period, listing every product that ran low in it.
ECOMMERCE_STOCK_DIGEST_MINUTES = env.int("ECOMMERCE_STOCK_DIGEST_MINUTES", default=60)
# Without a broker a serving process runs the periodic jobs and delivers events itself (ecommerce/events/scheduler).
ECOMMERCE_INPROCESS_SCHEDULER = env.bool("ECOMMERCE_INPROCESS_SCHEDULER", default=not CELERY_BROKER_URL)

CELERY_BEAT_SCHEDULE = {
    "orders-expire-unpaid": {"task": "apps.orders.tasks.expire_unpaid_orders", "schedule": 60.0},
    "orders-resume-followups": {"task": "apps.orders.tasks.resume_order_followups", "schedule": 60.0},
    "orders-sandbox-deliver-webhooks": {
        "task": "apps.orders.sandbox_processor.tasks.deliver_due_webhooks", "schedule": 5.0,
    },
    "orders-purge-checkout-attempts": {
        "task": "apps.orders.tasks.purge_expired_checkout_attempts", "schedule": 3600.0,
    },
    "products-release-stale-reservations": {
        "task": "apps.products.tasks.release_stale_reservations", "schedule": 60.0,
    },
    "carts-release-stale-claims": {"task": "apps.carts.tasks.release_stale_claims", "schedule": 60.0},
    "carts-purge-settled-claims": {"task": "apps.carts.tasks.purge_settled_claims", "schedule": 3600.0},
    "carts-purge-expired-guest-carts": {"task": "apps.carts.tasks.purge_expired_guest_carts", "schedule": 3600.0},
    "users-send-due-notifications": {"task": "apps.users.tasks.send_due_notifications", "schedule": 60.0},
    "users-stock-low-digest": {
        "task": "apps.users.tasks.send_stock_low_digest", "schedule": ECOMMERCE_STOCK_DIGEST_MINUTES * 60.0,
    },
    "users-alert-token-reuse": {"task": "apps.users.tasks.send_due_token_reuse_alerts", "schedule": 60.0},
    "users-purge-token-families": {"task": "apps.users.tasks.purge_expired_token_families", "schedule": 3600.0},
    "events-relay-outbox": {"task": "ecommerce.events.tasks.relay_outbox", "schedule": 5.0},
    "events-purge-old": {"task": "ecommerce.events.tasks.purge_old_events", "schedule": 86400.0},
}

# --- Auth -------------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
# The first backend counts an admin sign-in against the API's login limits before any password is checked.
AUTHENTICATION_BACKENDS = ["ecommerce.admin_sign_in.AdminSignInLimitBackend", "apps.users.backends.EmailBackend"]
# django-axes hooks the admin's sign-in; counting is ours (the shared counters of ecommerce/auth_limits.py), so its
# own tables, admin pages and cool-off settings stay unused. The parameters below describe what is counted.
AXES_HANDLER = "ecommerce.admin_sign_in.SharedLoginLimitsHandler"
AXES_CLIENT_IP_CALLABLE = "ecommerce.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "ecommerce.admin_sign_in.lockout_response"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "USER_ID_FIELD": "id",
}

# --- E-mail -----------------------------------------------------------------------------------------------------
# EMAIL_URL picks the backend (django-environ syntax): smtp://user:password@host:587 (smtp+tls://, smtp+ssl://),
# consolemail:// (the default: mails are printed), memorymail://, filemail:///path, dummymail://.
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="shop@example.com")

# --- REST framework ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["ecommerce.auth.StatelessJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ecommerce.api.parsers.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["ecommerce.throttling.AnonThrottle", "ecommerce.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": ECOMMERCE_THROTTLE_ANON, "user": ECOMMERCE_THROTTLE_USER},
    "EXCEPTION_HANDLER": "ecommerce.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "ecommerce.api.schema.ProblemAwareAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
    "NUM_PROXIES": env.int("ECOMMERCE_NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "Public REST API of the shop: accounts, catalog, cart and orders.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "apps.gateway.api.orders_serializers.STATUS_CHOICES",
        "PaymentStatusEnum": "apps.gateway.api.payments_serializers.PAYMENT_STATUS_CHOICES",
    },
    # The docs page loads Swagger UI from this process's static files (WhiteNoise), so it works offline and runs
    # exactly the pinned version of drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge from the online spec validator either: the page asks nothing of any other host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Internationalisation, static -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Only images collect static files (see production.py); elsewhere WhiteNoise finds them in the apps.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default="") or None
# Without a collectstatic step (development, `make split`) files are found in the apps; images collect them at build.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Logging ----------------------------------------------------------------------------------------------------
# One JSON object per line (python-json-logger) with the request, trace and caller it belongs to; "plain" for a
# developer's terminal. gunicorn and Celery processes take the same configuration (ecommerce/logging.py).
DJANGO_LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="json")
if DJANGO_LOG_FORMAT not in {"json", "plain"}:
    raise environ.ImproperlyConfigured("DJANGO_LOG_FORMAT must be 'json' or 'plain'")
DJANGO_LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = logging_config(level=DJANGO_LOG_LEVEL, log_format=DJANGO_LOG_FORMAT)


# --- Split deployment -------------------------------------------------------------------------------------------
# One role per process: it installs, migrates, routes and serves only what it owns (config/roles.py).
if ECOMMERCE_DEPLOYMENT_MODE == SPLIT:
    from config.roles import split_settings

    globals().update(split_settings(ECOMMERCE_SERVICE_ROLE, globals()))

# Named directly (not through local, production or test, which end with the same call), base refuses what they do.
if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__:
    refuse_unsafe_settings(globals())
