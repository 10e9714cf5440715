"""The hot paths' script runner: what redis-py's client would answer, on a connection of each thread's own, through
a server that forgot its scripts, a connection the server dropped, a fork, and an outage."""

from __future__ import annotations

import os
import socket
from unittest import mock

import pytest
import redis
from redis.connection import Connection

from ecommerce import raw_cache
from ecommerce.raw_cache import HotScript
from tests.environment import service_missing

_INCREMENT_AND_READ = """
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
return {current, redis.call('GET', KEYS[2])}
"""


@pytest.fixture
def server() -> redis.Redis:
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis"):
        service_missing("this test needs Redis: set REDIS_URL=redis://...")
    client = redis.Redis.from_url(url)
    yield client
    client.close()


@pytest.fixture
def keys(server) -> list[str]:
    """A counter and another key, this test process's own."""
    names = [f"hot-script-test:{os.getpid()}:{name}" for name in ("count", "other")]
    server.delete(*names)
    yield names
    server.delete(*names)


def test_a_script_answers_what_redis_pys_client_answers(server, keys) -> None:
    count, other = keys
    server.set(other, b"seen")
    script = HotScript(_INCREMENT_AND_READ)
    # when it runs twice through the hot path and once through redis-py's client
    assert script(server, keys=[count, other], args=[2]) == [2, b"seen"]
    assert script(server, keys=[count, other], args=[3]) == [5, b"seen"]
    assert server.register_script(_INCREMENT_AND_READ)(keys=[count, other], args=[1]) == [6, b"seen"]
    # then a missing key reads as None, as redis-py gives it
    server.delete(other)
    assert script(server, keys=[count, other], args=[1]) == [7, None]


def test_each_thread_keeps_one_connection_of_its_own(server, keys) -> None:
    count, other = keys
    script = HotScript(_INCREMENT_AND_READ)
    script(server, keys=[count, other], args=[1])
    first = raw_cache._threads.connection
    script(server, keys=[count, other], args=[1])
    assert raw_cache._threads.connection is first
    # and the pool's connections are not taken for it
    assert first not in server.connection_pool._available_connections


def test_a_server_that_lost_its_scripts_is_sent_the_text(server, keys) -> None:
    count, other = keys
    script = HotScript(_INCREMENT_AND_READ)
    assert script(server, keys=[count, other], args=[1]) == [1, None]
    # when the server forgets every script (as after a restart)
    server.script_flush()
    # then the next call still runs it, on the same connection
    connection = raw_cache._threads.connection
    assert script(server, keys=[count, other], args=[1]) == [2, None]
    assert raw_cache._threads.connection is connection
    assert connection._sock is not None


def test_a_connection_the_server_dropped_is_made_again(server, keys) -> None:
    count, other = keys
    script = HotScript(_INCREMENT_AND_READ)
    script(server, keys=[count, other], args=[1])
    connection = raw_cache._threads.connection
    connection.send_command("CLIENT", "ID")
    client_id = connection.read_response()
    # when the server drops the thread's connection (an idle timeout, a failover)
    assert server.client_kill_filter(_id=client_id) == 1
    # then the next call answers all the same, on a fresh connection
    assert script(server, keys=[count, other], args=[1]) == [2, None]
    connection.send_command("CLIENT", "ID")
    assert connection.read_response() != client_id


def test_a_forked_child_opens_a_connection_of_its_own(server, keys) -> None:
    count, other = keys
    script = HotScript(_INCREMENT_AND_READ)
    script(server, keys=[count, other], args=[1])
    parents = raw_cache._threads.connection
    # when the same thread runs it again in another process (gunicorn forks its workers)
    with mock.patch.object(raw_cache.os, "getpid", return_value=os.getpid() + 100_000):
        assert script(server, keys=[count, other], args=[1]) == [2, None]
        childs = raw_cache._threads.connection
    # then the child never wrote on the parent's socket, and left it open for the parent
    assert childs is not parents
    assert parents._sock is not None


def test_an_outage_raises_redis_pys_connection_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    with pytest.raises(redis.exceptions.ConnectionError):
        HotScript(_INCREMENT_AND_READ)(down, keys=["a", "b"], args=[1])


def test_a_pool_of_another_kind_goes_through_redis_pys_client(server, keys) -> None:
    count, other = keys

    made: list[Connection] = []

    class TracedConnection(Connection):
        """A connection class the hot path does not know (as Sentinel's is)."""

        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            made.append(self)

    pool = redis.ConnectionPool(connection_class=TracedConnection, **server.connection_pool.connection_kwargs)
    client = redis.Redis(connection_pool=pool)
    script = HotScript(_INCREMENT_AND_READ)
    assert script(client, keys=[count, other], args=[4]) == [4, None]
    # then it ran on a connection of that pool's own kind, not on the thread's
    assert len(made) == 1
    assert raw_cache._threads.pool is not pool
    client.close()


def test_a_traced_process_sends_it_through_redis_pys_instrumented_client(server, keys, settings,
                                                                          monkeypatch) -> None:
    count, other = keys
    settings.ECOMMERCE_TRACING_EXPORTER = "console"

    def no_own_connection(pool):
        raise AssertionError("a traced call must go through redis-py's client")

    monkeypatch.setattr(raw_cache, "_thread_connection", no_own_connection)
    assert HotScript(_INCREMENT_AND_READ)(server, keys=[count, other], args=[1]) == [1, None]
