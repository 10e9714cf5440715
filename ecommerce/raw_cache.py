"""The Redis client behind the default cache, for the few hot paths that batch commands into one round trip or store
plain bytes that a reader must not unpickle. Keys go through the cache's own ``make_key``, so they share its prefix
and version with everything else the cache holds (and are removed with it)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache


def django_redis_client() -> Any | None:
    """django-redis's client of the default cache; None when the default cache is something else."""
    client = getattr(cache, "client", None)
    return client if client is not None and hasattr(client, "get_client") else None


def redis_connection() -> Any | None:
    """A redis-py client for writes and reads on the default cache's server; None when it is not Redis."""
    client = django_redis_client()
    return client.get_client(write=True) if client is not None else None


def raw_key(key: str) -> str:
    return cache.make_key(key)
