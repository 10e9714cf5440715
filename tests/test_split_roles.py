"""Split deployment, per role: the apps it installs, the tables it may create and query, its URLconf and Celery
queues. Each role's settings are loaded for real in a child process (as gunicorn would), and ``migrate`` is run
for real for every role to show it creates only that role's tables."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import roles
from config.routers import ForeignTableAccess, RoleRouter

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = {"apps.users", "apps.products", "apps.carts", "apps.orders"}
SHARED_TABLE_PREFIXES = ("auth_", "django_", "events_")
SHADOW_USER_TABLES = {"users_user", "users_user_groups", "users_user_user_permissions"}


def _role_env(role: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "ECOMMERCE_RPC_LOOPBACK"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "ECOMMERCE_DEPLOYMENT_MODE": "split",
                "ECOMMERCE_SERVICE_ROLE": role, **extra})
    return env


def _settings_of(role: str) -> dict[str, object]:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'apps': s.INSTALLED_APPS, 'urlconf': s.ROOT_URLCONF, 'databases': "
        "{k: v['ENGINE'] for k, v in s.DATABASES.items()}, 'routers': s.DATABASE_ROUTERS, "
        "'backends': s.AUTHENTICATION_BACKENDS, 'queue': s.CELERY_TASK_DEFAULT_QUEUE, "
        "'middleware': s.MIDDLEWARE, 'session_cookie': s.SESSION_COOKIE_NAME}))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=_role_env(role), capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("role", roles.DOMAIN_ROLES)
def test_a_domain_role_installs_only_its_own_app_besides_the_shadow_user(role: str) -> None:
    loaded = _settings_of(role)

    assert {a for a in loaded["apps"] if a in DOMAIN_APPS} == {"apps.users", f"apps.{role}"}
    assert "apps.gateway" not in loaded["apps"]
    assert ("rest_framework_simplejwt.token_blacklist" in loaded["apps"]) is (role == "users")
    # An app nested in a context's package (the orders context's sandbox card processor) goes with its context.
    assert ("apps.orders.sandbox_processor" in loaded["apps"]) is (role == "orders")
    assert loaded["urlconf"] == "config.urls_service"
    assert loaded["routers"] == ["config.routers.RoleRouter"]
    assert loaded["queue"] == role
    assert loaded["databases"] == {"default": "django.db.backends.sqlite3"}
    # Every admin counts sign-ins against the API's login limits first (ecommerce.admin_sign_in).
    password_check = ("apps.users.backends.EmailBackend" if role == "users"
                      else "ecommerce.rpc.shadow_users.ContractStaffBackend")
    expected_backends = ["ecommerce.admin_sign_in.AdminSignInLimitBackend", password_check]
    assert loaded["backends"] == expected_backends
    assert loaded["session_cookie"] == f"{role}_sessionid"  # admins of roles on one host keep apart
    assert "axes.middleware.AxesMiddleware" in loaded["middleware"]


def test_the_gateway_has_no_database_no_admin_and_no_domain_app_but_the_user_model() -> None:
    loaded = _settings_of("gateway")

    assert loaded["databases"] == {"default": "django.db.backends.dummy"}
    assert loaded["urlconf"] == "config.urls_gateway"
    assert {a for a in loaded["apps"] if a in DOMAIN_APPS} == {"apps.users"}
    assert "apps.orders.sandbox_processor" not in loaded["apps"]
    assert "apps.gateway" in loaded["apps"]
    for absent in ("django.contrib.admin", "django.contrib.sessions", "ecommerce.events",
                   "rest_framework_simplejwt.token_blacklist", "axes"):
        assert absent not in loaded["apps"]
    assert loaded["backends"] == []
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in loaded["middleware"]


def test_split_mode_without_a_known_role_refuses_to_start() -> None:
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                            env=_role_env("warehouse"), capture_output=True, text=True, check=False)

    assert result.returncode != 0
    assert "ECOMMERCE_SERVICE_ROLE" in result.stderr
    with pytest.raises(ImproperlyConfigured):
        roles.validate_role("")


@pytest.mark.parametrize("role", roles.DOMAIN_ROLES)
def test_migrate_for_a_role_creates_only_that_roles_tables(role: str, tmp_path: Path) -> None:
    database = tmp_path / f"{role}.sqlite3"
    result = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT,
                            env=_role_env(role, DATABASE_URL=f"sqlite:///{database}"), capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr

    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    own_prefixes = tuple(f"{label}_" for label in roles.OWNED_APP_LABELS[role])
    own = {t for t in tables if t.startswith(own_prefixes)}
    others = tables - own - SHADOW_USER_TABLES - {t for t in tables if t.startswith(SHARED_TABLE_PREFIXES)}

    assert own - SHADOW_USER_TABLES, f"{role} created none of its own tables"
    assert others == set()
    assert tables >= SHADOW_USER_TABLES
    if role != "users":
        assert "users_address" not in tables
        assert not {t for t in tables if t.startswith("token_blacklist_")}


def test_table_ownership_rules() -> None:
    assert roles.allows_table("products", "products", "product")
    assert roles.allows_table("products", "auth", "group")
    assert roles.allows_table("products", "users", "user")
    assert roles.allows_table("products", "users", None)  # the users app's data migration (role groups)
    assert not roles.allows_table("products", "users", "address")
    assert not roles.allows_table("products", "carts", "cart")
    assert not roles.allows_table("products", "token_blacklist", "outstandingtoken")
    assert roles.allows_table("users", "token_blacklist", "outstandingtoken")
    assert roles.allows_table("users", "users", "address")
    assert not roles.allows_table("gateway", "users", "user")
    assert not roles.allows_table("gateway", "auth", "group")


def test_the_router_refuses_queries_on_another_contexts_tables(settings) -> None:
    from django.contrib.auth.models import Group

    from apps.users.models import Address, User

    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "products"
    router = RoleRouter()

    assert router.db_for_read(User) is None
    assert router.db_for_write(User.groups.through) is None  # the shadow's group links
    assert router.db_for_read(Group) is None
    with pytest.raises(ForeignTableAccess):
        router.db_for_read(Address)
    with pytest.raises(ForeignTableAccess):
        router.db_for_write(Address)
    assert router.allow_migrate("default", "users", model_name="address") is False
    assert router.allow_migrate("default", "products", model_name="product") is True


def test_celery_tasks_of_each_role_go_to_that_roles_queue() -> None:
    schedule = {
        "orders-expire-unpaid": {"task": "apps.orders.tasks.expire_unpaid_orders", "schedule": 60.0},
        "events-relay-outbox": {"task": "ecommerce.events.tasks.relay_outbox", "schedule": 5.0},
    }

    celery = roles.celery_settings("carts", schedule)

    assert celery["CELERY_TASK_DEFAULT_QUEUE"] == "carts"
    assert celery["CELERY_TASK_ROUTES"]["apps.orders.tasks.*"] == {"queue": "orders"}
    assert celery["CELERY_BEAT_SCHEDULE"]["orders-expire-unpaid"]["options"] == {"queue": "orders"}
    relays = {name: entry["options"]["queue"] for name, entry in celery["CELERY_BEAT_SCHEDULE"].items()
              if entry["task"] == "ecommerce.events.tasks.relay_outbox"}
    assert relays == {f"events-relay-outbox-{r}": r for r in roles.DOMAIN_ROLES}


def test_a_roles_admin_site_holds_only_its_own_models(settings) -> None:
    settings.ECOMMERCE_DEPLOYMENT_MODE = "split"
    settings.ECOMMERCE_SERVICE_ROLE = "products"
    from config.urls_service import role_admin_site

    labels = {model._meta.app_label for model in role_admin_site()._registry}

    assert labels == {"products"}
