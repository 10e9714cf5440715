"""What each role of a split deployment installs, owns, routes and serves.

Guards the split's central rule: a process holds and queries only the tables of the bounded context it serves. The
gateway owns no database at all (its ``default`` is Django's dummy backend, so a stray query fails loudly instead
of reading someone else's data); a domain role installs Django's framework apps, the outbox, its own app and, when it
is not the users role, the users model only as a *shadow* table for staff who sign in to its admin (see
``ecommerce.rpc.shadow_users``). ``config/settings/base.py`` applies :func:`split_settings` when
``ECOMMERCE_DEPLOYMENT_MODE=split``; in the monolith nothing here is used.

The role list and which role owns which service come from ``ecommerce.deployment``; this module adds what each role
installs and which tables it holds. It is imported by the settings, so it must not read Django's settings or import
any app.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ecommerce.deployment import DOMAIN_ROLES, GATEWAY, ROLES

# The application package of each domain role, and every app label whose tables that role owns. An app nested in a
# role's package (``apps.orders.sandbox_processor``) belongs to that role.
ROLE_APP = {role: f"apps.{role}" for role in DOMAIN_ROLES}
OWNED_APP_LABELS: dict[str, frozenset[str]] = {
    "users": frozenset({"users", "token_blacklist"}),
    "products": frozenset({"products"}),
    "carts": frozenset({"carts"}),
    "orders": frozenset({"orders", "sandbox_processor"}),
    GATEWAY: frozenset(),
}
# Framework tables every domain role keeps in its own database: its admin, sessions, permissions and outbox.
FRAMEWORK_APP_LABELS = frozenset({"admin", "auth", "contenttypes", "sessions", "events"})
# A domain role that is not the users role keeps only the user table (and its group links) as a shadow of the
# users context, so that admin sessions and the admin log have a local row to point at. Addresses, tokens and
# anything else of the users context never exist there.
SHADOW_USER_MODELS = frozenset({"user"})

_TOKEN_BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"
# The gateway serves the public API only: no admin, no sessions, no outbox. It still registers the user model
# (without ever querying it) because DRF's JWT authentication resolves AUTH_USER_MODEL when it is created.
_GATEWAY_DROPS = {
    "django.contrib.admin", "django.contrib.sessions", "django.contrib.messages", "ecommerce.events",
    _TOKEN_BLACKLIST_APP, "axes", "import_export",
}
_GATEWAY_MIDDLEWARE_DROPS = {
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
}
SHADOW_USER_BACKEND = "ecommerce.rpc.shadow_users.ContractStaffBackend"
# First wherever an admin is served: admin sign-ins count against the API's login limits (ecommerce.admin_sign_in).
ADMIN_SIGN_IN_LIMIT_BACKEND = "ecommerce.admin_sign_in.AdminSignInLimitBackend"


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise ImproperlyConfigured(
            f"ECOMMERCE_DEPLOYMENT_MODE=split needs ECOMMERCE_SERVICE_ROLE set to one of {', '.join(ROLES)}; "
            f"got {role!r}"
        )
    return role


def _domain_of(app: str) -> str | None:
    """The domain role whose package holds ``app`` (itself or nested in it), or None for anything else."""
    return next((role for role in DOMAIN_ROLES if app == ROLE_APP[role] or app.startswith(f"{ROLE_APP[role]}.")),
                None)


def installed_apps(role: str, monolith_apps: list[str]) -> list[str]:
    """The monolith's list, filtered, so the order Django loads apps in stays the same in every role."""
    if role == GATEWAY:
        return [app for app in monolith_apps
                if app not in _GATEWAY_DROPS and (_domain_of(app) is None or app == "apps.users")]
    apps = [app for app in monolith_apps if app != "apps.gateway"
            and (_domain_of(app) in {None, role} or app == "apps.users")]
    if role != "users":
        apps = [app for app in apps if app != _TOKEN_BLACKLIST_APP]
    return apps


def allows_table(role: str, app_label: str, model_name: str | None) -> bool:
    """Whether ``role`` may create and query the table of ``app_label.model_name`` (None: a data migration)."""
    if role == GATEWAY:
        return False
    if app_label in OWNED_APP_LABELS[role] or app_label in FRAMEWORK_APP_LABELS:
        return True
    if app_label == "users":
        return model_name is None or model_name in SHADOW_USER_MODELS
    return False


def celery_settings(role: str, beat_schedule: dict[str, dict[str, Any]], namespace: str = "") -> dict[str, Any]:
    """Each domain role's tasks go to a queue named after the role, consumed only by that role's worker, which
    runs with that role's settings and therefore its database. A task a role sends without a route (the outbox
    relay) lands on its own queue; beat's per-role entries name the queue explicitly. ``namespace`` prefixes every
    queue name (ECOMMERCE_BROKER_NAMESPACE)."""
    routes = {f"apps.{domain}.tasks.*": {"queue": f"{namespace}{domain}"} for domain in DOMAIN_ROLES}
    schedule: dict[str, dict[str, Any]] = {}
    for name, entry in beat_schedule.items():
        task: str = entry["task"]
        owner = next((d for d in DOMAIN_ROLES if task.startswith(f"apps.{d}.")), None)
        if owner is not None:
            schedule[name] = {**entry, "options": {**entry.get("options", {}), "queue": f"{namespace}{owner}"}}
        else:
            # Shared kernel tasks (the outbox relay) run once per domain role, each against its own outbox.
            for domain in DOMAIN_ROLES:
                schedule[f"{name}-{domain}"] = {
                    **entry, "options": {**entry.get("options", {}), "queue": f"{namespace}{domain}"},
                }
    return {
        "CELERY_TASK_DEFAULT_QUEUE": f"{namespace}{role}",
        "CELERY_TASK_ROUTES": routes,
        "CELERY_BEAT_SCHEDULE": schedule,
    }


def split_settings(role: str, monolith: dict[str, Any]) -> dict[str, Any]:
    """The settings that differ from the monolith for one role of a split deployment."""
    validate_role(role)
    overrides: dict[str, Any] = {
        "INSTALLED_APPS": installed_apps(role, monolith["INSTALLED_APPS"]),
        "DATABASE_ROUTERS": ["config.routers.RoleRouter"],
        **celery_settings(role, monolith["CELERY_BEAT_SCHEDULE"], monolith.get("ECOMMERCE_BROKER_NAMESPACE", "")),
    }
    if role == GATEWAY:
        overrides["ROOT_URLCONF"] = "config.urls_gateway"
        overrides["MIDDLEWARE"] = [m for m in monolith["MIDDLEWARE"] if m not in _GATEWAY_MIDDLEWARE_DROPS]
        # No database: Django falls back to its dummy backend, which refuses every query.
        overrides["DATABASES"] = {}
        # Nothing signs in here: the API's login is counted by its view and checked by the users role.
        overrides["AUTHENTICATION_BACKENDS"] = []
    else:
        overrides["ROOT_URLCONF"] = "config.urls_service"
        # Cookies ignore ports: on one host (make split) each role's admin must keep its own session and CSRF token.
        overrides["SESSION_COOKIE_NAME"] = f"{role}_sessionid"
        overrides["CSRF_COOKIE_NAME"] = f"{role}_csrftoken"
        if role != "users":
            overrides["AUTHENTICATION_BACKENDS"] = [ADMIN_SIGN_IN_LIMIT_BACKEND, SHADOW_USER_BACKEND]
    return overrides
