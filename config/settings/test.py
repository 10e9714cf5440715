"""Test settings: fast hashing, mail kept in memory, real database from DATABASE_URL when set.

A test run only touches what it creates: its PostgreSQL test database and its cache keys carry an id of this run
(and of the xdist worker), so two runs on one machine, or a run beside a developer's own data, never meet."""

import os
import re
import secrets

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, DATABASES, SIMPLE_JWT
from config.settings.safety import refuse_unsafe_settings

# xdist gives every worker of one run the same TESTRUNUID; a plain run uses its process id.
TEST_RUN_ID = re.sub(r"[^a-z0-9_]", "", (
    os.environ.get("ECOMMERCE_TEST_RUN_ID")
    or os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8]
    or str(os.getpid())
).lower())
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

# Tests run with DEBUG off, like production: they get secrets of their own, never the development defaults.
SECRET_KEY = secrets.token_urlsafe(64)
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}
INTERNAL_AUTH_TOKEN = secrets.token_urlsafe(48)
ECOMMERCE_SANDBOX_WEBHOOK_SECRETS = [secrets.token_urlsafe(32)]
# Tests hand the sandbox's webhooks to the app in process (tests/sandbox_webhooks.py) and run its delivery task
# themselves; an attempt that escapes them meets a closed local port, never the network.
ECOMMERCE_SANDBOX_WEBHOOK_URL = "http://127.0.0.1:9/api/v1/payments/webhooks/sandbox"
ECOMMERCE_SANDBOX_DELIVER_IN_BACKGROUND = False

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
# Tests drive delivery themselves; the broker names of this run are its own (see ecommerce.events.topology).
ECOMMERCE_INPROCESS_SCHEDULER = False
ECOMMERCE_BROKER_NAMESPACE = f"test-{TEST_RUN_ID}-{_WORKER}."
CELERY_TASK_DEFAULT_QUEUE = f"{ECOMMERCE_BROKER_NAMESPACE}celery"
CELERY_CONTROL_EXCHANGE = f"{ECOMMERCE_BROKER_NAMESPACE}celery"
CELERY_EVENT_EXCHANGE = f"{ECOMMERCE_BROKER_NAMESPACE}celeryev"

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # pytest-django appends the xdist worker (``_gw0``) itself.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{TEST_RUN_ID}"}
CACHES["default"]["KEY_PREFIX"] = f"test-{TEST_RUN_ID}-{_WORKER}"

refuse_unsafe_settings(globals())
