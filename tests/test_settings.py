"""Settings come from the environment; production refuses what is only safe on a developer's machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG_SECRET = "x" * 50
STRONG_INTERNAL_TOKEN = "y" * 40


def _load(module: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "ECOMMERCE_"))}
    env.update(environment)
    code = (f"import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = '{module}'; django.setup(); "
            "from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.CACHES['default']['BACKEND'], "
            "settings.CELERY_TASK_ALWAYS_EAGER)")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=60)


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


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"INTERNAL_AUTH_TOKEN": STRONG_INTERNAL_TOKEN}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": STRONG_SECRET, "INTERNAL_AUTH_TOKEN": STRONG_INTERNAL_TOKEN, "DJANGO_DEBUG": "1"},
         "DJANGO_DEBUG"),
        ({"DJANGO_SECRET_KEY": STRONG_SECRET}, "INTERNAL_AUTH_TOKEN"),
    ],
)
def test_production_refuses_default_secrets_and_debug(environment: dict[str, str], complaint: str) -> None:
    result = _load("config.settings.production", **environment)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_production_starts_with_real_secrets() -> None:
    result = _load("config.settings.production", DJANGO_SECRET_KEY=STRONG_SECRET,
                   INTERNAL_AUTH_TOKEN=STRONG_INTERNAL_TOKEN)

    assert result.returncode == 0, result.stderr
