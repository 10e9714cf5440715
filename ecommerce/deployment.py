"""Where this process stands in the deployment, decided here and asked everywhere else.

The rule it guards: "is this contract served in this process, or by which role at which address?" has one answer,
given in one place. The mode (monolith or split), this process's role, the list of roles, which role owns each
service, the roles' URLs and loopback mode are read here only; the contract delegators, the internal endpoint, the
RPC transports, readiness, tracing, the settings of a split role (``config.roles``) and the scripts that start
processes all ask this module.

Whatever caches an answer derived from these settings (a delegator's resolved target, an RPC transport and its
circuit breaker) registers how to forget it with :func:`register_cache`; all of them are forgotten together whenever
one of :data:`SETTINGS` changes (Django's ``setting_changed``, which test overrides send) and by
:func:`clear_caches`, so no cache can outlive the deployment it was built for.

The settings module imports this (through ``config.roles``), so nothing here reads ``django.conf.settings`` at import
time, only inside the functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

MONOLITH = "monolith"
SPLIT = "split"
MODES = (MONOLITH, SPLIT)

GATEWAY = "gateway"
DOMAIN_ROLES: tuple[str, ...] = ("users", "products", "carts", "orders")
ROLES: tuple[str, ...] = (GATEWAY, *DOMAIN_ROLES)

# Each domain role owns the one contract named after it; the gateway owns none and calls them all.
SERVICE_OWNERS: Mapping[str, str] = MappingProxyType({role: role for role in DOMAIN_ROLES})

# The settings every answer here depends on; a change to any of them invalidates every registered cache.
SETTINGS = frozenset({
    "ECOMMERCE_DEPLOYMENT_MODE",
    "ECOMMERCE_SERVICE_ROLE",
    "ECOMMERCE_SERVICE_URLS",
    "ECOMMERCE_RPC_LOOPBACK",
    "ECOMMERCE_RPC_TIMEOUT_SECONDS",
})


def mode() -> str:
    return settings.ECOMMERCE_DEPLOYMENT_MODE


def is_split() -> bool:
    return mode() == SPLIT


def process_role() -> str:
    """This process's role: ``monolith`` in the monolith (whatever ECOMMERCE_SERVICE_ROLE says), else its split role."""
    return settings.ECOMMERCE_SERVICE_ROLE if is_split() else MONOLITH


def owner_of(service: str) -> str | None:
    """The role that holds ``service``'s implementation and data in a split deployment (None: no role does)."""
    return SERVICE_OWNERS.get(service)


def services_owned_by(role: str) -> tuple[str, ...]:
    return tuple(service for service, owner in SERVICE_OWNERS.items() if owner == role)


def owns(service: str) -> bool:
    """Whether this process holds ``service``'s implementation and data: every service in the monolith, in a split
    deployment only the one its role owns. The internal endpoint serves only what this process owns."""
    return not is_split() or owner_of(service) == process_role()


def loopback() -> bool:
    """Tests only: every contract call goes through serialisation, signing and the internal endpoint in-process."""
    return bool(settings.ECOMMERCE_RPC_LOOPBACK)


def serves_locally(service: str) -> bool:
    """Whether a call to ``service`` from this process is a plain Python call (else it travels as RPC)."""
    return not loopback() and owns(service)


def role_urls() -> dict[str, str]:
    """The base URL of each role this process may call, by role."""
    return dict(settings.ECOMMERCE_SERVICE_URLS)


def service_url(service: str) -> str | None:
    """The base URL of the role that owns ``service``, or None when none is configured."""
    owner = owner_of(service)
    return role_urls().get(owner) if owner else None


def peer_urls() -> dict[str, str]:
    """The other roles this process calls (itself left out), sorted by role: what the gateway's readiness probes."""
    own = process_role()
    return {role: url for role, url in sorted(role_urls().items()) if role != own}


def split_environment(*, role: str, urls: Mapping[str, str]) -> dict[str, str]:
    """The environment that places one process in a split deployment, as a process launcher writes it."""
    return {
        "ECOMMERCE_DEPLOYMENT_MODE": SPLIT,
        "ECOMMERCE_SERVICE_ROLE": role,
        "ECOMMERCE_SERVICE_URLS": ",".join(f"{name}={url}" for name, url in urls.items()),
    }


# --- caches derived from the deployment ---------------------------------------------------------------------------
_clearers: list[Callable[[], None]] = []
_clearers_lock = threading.Lock()


def register_cache(clear: Callable[[], None]) -> None:
    """Register how to forget a cache built from the deployment settings; :func:`clear_caches` calls it."""
    with _clearers_lock:
        _clearers.append(clear)


def clear_caches() -> None:
    with _clearers_lock:
        clearers = list(_clearers)
    for clear in clearers:
        clear()


def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting in SETTINGS:
        clear_caches()


setting_changed.connect(_on_setting_changed, dispatch_uid="ecommerce.deployment")
