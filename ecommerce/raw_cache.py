"""The Redis client behind the default cache, for the few hot paths that batch commands into one round trip or store
plain bytes that a reader must not unpickle. Keys go through the cache's own ``make_key``, so they share its prefix
and version with everything else the cache holds (and are removed with it)."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from django.conf import settings
from django.core.cache import cache
from hiredis import pack_command
from redis import ConnectionPool
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError


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


# The connection classes of a plain server (TCP, TLS, Unix socket); a pool of any other kind (Sentinel, client-side
# caching) keeps its own machinery and is used through redis-py's client.
_PLAIN_CONNECTIONS = (Connection, SSLConnection, UnixDomainSocketConnection)


class HotScript:
    """A Lua script run on the default cache's server with as little client work as a command can take.

    The hot paths (the anonymous edge, the signed-in cart) run one script per request, thousands of times a second,
    and redis-py's client spends about as much CPU around a command (taking a connection from the pool under its
    lock, retry and observability wrappers, response callbacks) as the round trip itself. Here the script goes on
    the calling thread's own connection (``_thread_connection``) by digest; a server that lost its scripts (a
    restart, ``SCRIPT FLUSH``) is sent the text once. Any other pool (Sentinel, client-side caching) goes through
    redis-py's client, and so does every call in a process that traces (``ECOMMERCE_TRACING_EXPORTER``), so that
    the command has its span from redis-py's instrumentation, as every other Redis command has."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, client: Any, *, keys: list[str], args: list[Any]) -> Any:
        """Run the script with ``keys`` and ``args`` on ``client``'s server (``client``: redis-py's, from the
        cache); redis-py's exceptions as its client would raise them."""
        connection = None if settings.ECOMMERCE_TRACING_EXPORTER != "none" else _thread_connection(
            client.connection_pool)
        if connection is None:
            return client.register_script(self.text)(keys=keys, args=args, client=client)
        try:
            return self._run(connection, keys, args)
        except RedisConnectionError:
            # The server may close an idle connection; a second try on a fresh one tells an outage from that, as the
            # pool would. (A timeout is not tried again: the server may be busy, and the caller would wait twice.)
            connection.disconnect()
            return self._run(connection, keys, args)

    def _run(self, connection: Connection, keys: list[str], args: list[Any]) -> Any:
        connection.send_packed_command([pack_command(("EVALSHA", self.digest, len(keys), *keys, *args))],
                                       check_health=False)
        try:
            return connection.read_response()
        except NoScriptError:
            connection.send_packed_command([pack_command(("EVAL", self.text, len(keys), *keys, *args))],
                                           check_health=False)
            return connection.read_response()


class _ThreadConnection(threading.local):
    connection: Connection | None = None
    pool: ConnectionPool | None = None
    pid: int | None = None


_threads = _ThreadConnection()


def _thread_connection(pool: Any) -> Connection | None:
    """The calling thread's own connection to ``pool``'s server, made from the pool's settings (address,
    credentials, TLS, timeouts) and never shared, so using it takes no lock; None for a pool of another kind. A
    server process has a fixed set of threads, so these are a fixed set of connections."""
    local = _threads
    connection = local.connection
    if connection is not None and local.pool is pool and local.pid == os.getpid():
        return connection
    if type(pool) is not ConnectionPool or pool.connection_class not in _PLAIN_CONNECTIONS \
            or getattr(pool, "cache", None) is not None:
        return None
    # A forked child, or a new pool (the cache's settings changed), gets a connection of its own; the old one is
    # closed only by the process that opened it, which may still be using it.
    if connection is not None and local.pid == os.getpid():
        connection.disconnect()
    local.connection = pool.connection_class(**pool.connection_kwargs)
    local.pool, local.pid = pool, os.getpid()
    return local.connection
