"""Settings come from the environment; every process with DEBUG off refuses what is only safe on a developer's
machine, whichever settings module and deployment mode it starts with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.safety import DEVELOPMENT_INTERNAL_TOKEN, DEVELOPMENT_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
STRONG_SECRET = "Kq3v-strong-secret-key-for-settings-tests-7d1f0c9b2e8a4f6d"
STRONG_INTERNAL_TOKEN = "Zp8w-strong-internal-token-for-tests-5a2c"
STRONG_SANDBOX_SECRET = "Hs4x-strong-sandbox-webhook-secret-9e7b1d"
# Every process that handles payments (the monolith, the orders role) needs the provider's secrets.
PAYMENTS = {"ECOMMERCE_SANDBOX_WEBHOOK_SECRETS": STRONG_SANDBOX_SECRET}
SETTINGS_MODULES = ["config.settings.base", "config.settings.local", "config.settings.production"]
SPLIT = {"ECOMMERCE_DEPLOYMENT_MODE": "split", "ECOMMERCE_SERVICE_ROLE": "users"}


DEFAULT_PROBE = ("settings.DATABASES['default']['ENGINE'], settings.CACHES['default']['BACKEND'], "
                 "settings.CELERY_TASK_ALWAYS_EAGER")


def _load(module: str, probe: str = DEFAULT_PROBE, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "ECOMMERCE_", "INTERNAL_AUTH",
                                "JWT_", "EMAIL_URL"))}
    env.update(environment)
    code = (f"import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = '{module}'; django.setup(); "
            f"from django.conf import settings; print({probe})")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=60)


def _assert_refused(result: subprocess.CompletedProcess[str], complaint: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr, result.stderr[-2000:]


def test_with_nothing_set_the_shop_runs_on_embedded_defaults() -> None:
    result = _load("config.settings.local")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3",
                                     "django.core.cache.backends.locmem.LocMemCache", "True"]


def test_service_urls_switch_to_postgres_redis_and_a_real_broker() -> None:
    result = _load("config.settings.local", DATABASE_URL="postgres://u@127.0.0.1:5432/shop",
                   REDIS_URL="redis://127.0.0.1:6379/0", CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "django_redis.cache.RedisCache", "False"]


EMAIL_PROBE = ("settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, "
               "settings.ECOMMERCE_INPROCESS_SCHEDULER")


def test_with_nothing_set_mail_is_printed_and_background_work_runs_in_process() -> None:
    result = _load("config.settings.local", EMAIL_PROBE)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend"
    assert result.stdout.split()[-1] == "True"


def test_email_url_picks_an_smtp_server_and_a_broker_turns_in_process_work_off() -> None:
    result = _load("config.settings.local", EMAIL_PROBE, EMAIL_URL="smtp+tls://mailer:secret@mail.example.com:587",
                   CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "mail.example.com", "587",
                                     "True", "False"]


@pytest.mark.parametrize("module", SETTINGS_MODULES)
@pytest.mark.parametrize("secret", ["", DEVELOPMENT_SECRET_KEY, "too-short-but-random-3f9a",
                                    "change-me-to-a-long-random-value-of-at-least-50-chars!!"])
def test_with_debug_off_every_settings_module_refuses_a_weak_secret_key(module: str, secret: str) -> None:
    environment = {"DJANGO_DEBUG": "0", "INTERNAL_AUTH_TOKEN": STRONG_INTERNAL_TOKEN}
    if secret:
        environment["DJANGO_SECRET_KEY"] = secret

    _assert_refused(_load(module, **environment), "DJANGO_SECRET_KEY")


@pytest.mark.parametrize("module", SETTINGS_MODULES)
@pytest.mark.parametrize("token", ["", DEVELOPMENT_INTERNAL_TOKEN, "short-token-4b1e"])
def test_with_debug_off_a_split_role_refuses_a_weak_internal_token(module: str, token: str) -> None:
    result = _load(module, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=STRONG_SECRET, INTERNAL_AUTH_TOKEN=token, **SPLIT)

    _assert_refused(result, "INTERNAL_AUTH_TOKEN")


@pytest.mark.parametrize("role", ["gateway", "products"])
def test_a_weak_token_still_accepted_during_a_rotation_is_refused_too(role: str) -> None:
    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET,
                   INTERNAL_AUTH_TOKEN=STRONG_INTERNAL_TOKEN, INTERNAL_AUTH_TOKENS_ACCEPTED=DEVELOPMENT_INTERNAL_TOKEN,
                   ECOMMERCE_DEPLOYMENT_MODE="split", ECOMMERCE_SERVICE_ROLE=role)

    _assert_refused(result, "INTERNAL_AUTH_TOKENS_ACCEPTED")


def test_the_monolith_needs_no_internal_token_because_it_serves_no_internal_endpoint() -> None:
    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET, **PAYMENTS)

    assert result.returncode == 0, result.stderr


def test_forcing_the_loopback_path_needs_a_real_internal_token() -> None:
    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET, ECOMMERCE_RPC_LOOPBACK="1")

    _assert_refused(result, "INTERNAL_AUTH_TOKEN")


def test_a_weak_metrics_or_jwt_key_is_refused() -> None:
    metrics = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET, ECOMMERCE_METRICS_TOKEN="metrics")
    jwt = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET, JWT_SIGNING_KEY="change-me")

    _assert_refused(metrics, "ECOMMERCE_METRICS_TOKEN")
    _assert_refused(jwt, "JWT_SIGNING_KEY")


def test_production_refuses_debug() -> None:
    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET, DJANGO_DEBUG="1")

    _assert_refused(result, "DJANGO_DEBUG")


@pytest.mark.parametrize("mode", [{}, SPLIT, {**SPLIT, "ECOMMERCE_SERVICE_ROLE": "gateway"}])
def test_production_starts_with_real_secrets_in_every_mode(mode: dict[str, str]) -> None:
    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET,
                   INTERNAL_AUTH_TOKEN=STRONG_INTERNAL_TOKEN, **PAYMENTS, **mode)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("mode", [{}, {**SPLIT, "ECOMMERCE_SERVICE_ROLE": "orders"}])
@pytest.mark.parametrize("secret", [None, "", "insecure-sandbox-webhook-secret-change-me", "short-9f2c"])
def test_where_payments_are_handled_the_sandbox_needs_a_strong_webhook_secret(mode: dict[str, str],
                                                                              secret: str | None) -> None:
    environment = {} if secret is None else {"ECOMMERCE_SANDBOX_WEBHOOK_SECRETS": secret}

    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET,
                   INTERNAL_AUTH_TOKEN=STRONG_INTERNAL_TOKEN, **environment, **mode)

    _assert_refused(result, "ECOMMERCE_SANDBOX_WEBHOOK_SECRETS")


@pytest.mark.parametrize("role", ["gateway", "users", "products", "carts"])
def test_roles_that_handle_no_payments_need_no_payment_secret(role: str) -> None:
    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET,
                   INTERNAL_AUTH_TOKEN=STRONG_INTERNAL_TOKEN, **{**SPLIT, "ECOMMERCE_SERVICE_ROLE": role})

    assert result.returncode == 0, result.stderr


def test_stripe_needs_its_api_key_and_a_webhook_secret() -> None:
    without = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET, ECOMMERCE_PAYMENT_PROVIDER="stripe")
    configured = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET,
                       ECOMMERCE_PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_live_x",
                       STRIPE_WEBHOOK_SECRETS="whsec_old,whsec_new")
    unknown = _load("config.settings.local", ECOMMERCE_PAYMENT_PROVIDER="paypal")

    _assert_refused(without, "STRIPE_SECRET_KEY is empty; STRIPE_WEBHOOK_SECRETS is empty")
    assert configured.returncode == 0, configured.stderr
    _assert_refused(unknown, "ECOMMERCE_PAYMENT_PROVIDER")


_DEPLOY_CHECK = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='WARNING'); "
    "print(json.dumps({'silenced': s.SILENCED_SYSTEM_CHECKS, 'hsts': [s.SECURE_HSTS_SECONDS, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD]}))"
)


@pytest.mark.parametrize("mode", [{}, *({**SPLIT, "ECOMMERCE_SERVICE_ROLE": role}
                                        for role in ("gateway", "users", "products", "carts", "orders"))])
def test_the_deployment_check_is_clean_in_every_role_with_nothing_silenced(mode: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "ECOMMERCE_", "INTERNAL_AUTH", "JWT_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET,
               INTERNAL_AUTH_TOKEN=STRONG_INTERNAL_TOKEN, **PAYMENTS, **mode)

    result = subprocess.run([sys.executable, "-c", _DEPLOY_CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False, timeout=60)

    assert result.returncode == 0, result.stderr[-3000:]
    checked = json.loads(result.stdout.strip().splitlines()[-1])
    assert checked["silenced"] == []
    assert checked["hsts"] == [365 * 24 * 3600, True, True]


def _database_of(database_url: str) -> dict[str, object]:
    code = ("import django, json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.local'; django.setup(); "
            "from django.db import connection; "
            "journal = connection.cursor().execute('PRAGMA journal_mode').fetchone()[0] "
            "if os.environ['DATABASE_URL'] else None; "
            "print(json.dumps({'name': str(connection.settings_dict['NAME']), "
            "'options': connection.settings_dict['OPTIONS'], 'journal': journal}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL", "CELERY_", "ECOMMERCE_"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "DATABASE_URL": database_url},
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_embedded_database_takes_concurrent_writes(tmp_path: Path) -> None:
    loaded = _database_of(f"sqlite:///{tmp_path / 'shop.sqlite3'}")

    # writers wait for the lock, take it when their transaction begins, and never block readers
    assert loaded["options"]["transaction_mode"] == "IMMEDIATE"
    assert loaded["options"]["timeout"] >= 10
    assert loaded["journal"] == "wal"


def test_an_empty_database_url_means_the_embedded_default() -> None:
    loaded = _database_of("")

    assert loaded["name"] == str(ROOT / "db.sqlite3")
