"""Throttles shared by every process through the default cache (Redis in any real deployment).

Rates read like ``300/min`` or ``10/15min``: a count per a number of seconds, minutes, hours or days. DRF's own
parser reads only the first letter of the period, which would turn ``15min`` into one minute.

A request costs one cache round trip of constant size: requests are counted per fixed window with an atomic
increment, and the previous window's count is weighted by how much of it still lies within the period (a sliding
window, approximated). DRF's own throttles keep the list of every request's time in the period and read and write
it whole on each request: the cost grows with the rate allowed, and two concurrent requests lose one another's
entry. A refused request is not counted, so ``Retry-After`` stays true for a client that waits for it.

The count shares its round trip with the read every request needs first: an anonymous cached catalog read is counted
with the entry it answers from (``count_anonymous_client``), a signed-in request with its token's revocation mark
(``count_user_request``). That count is taken at authentication, before the permission check; the API's exception
handler takes it back from a request refused before its throttle judged it (a revoked token, a role that may not),
so, as with DRF's order, only requests that reach the throttle count. A signed-in read answered from the cache before
any view (the cart, ``count_user_request_early``) is counted the same way, and one that goes on to its view after all
takes its count there, so it is counted once whichever path answers it."""

from __future__ import annotations

import functools
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, UserRateThrottle

from ecommerce.raw_cache import HotScript, django_redis_client

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
                 "d": 86400, "day": 86400}


@functools.lru_cache(maxsize=64)  # every request's throttles parse the same few settings
def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/15min"`` → ``(10, 900)``."""
    match = _RATE.match(rate)
    if not match:
        raise ValueError(f"Unreadable rate {rate!r}; expected e.g. '300/min' or '10/15min'")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNIT_SECONDS[unit]


def client_ip(request: Any) -> str:
    """Who the client is, for every per-client limit (API and admin alike): the address the last trusted proxy saw
    (``ECOMMERCE_NUM_PROXIES`` of them in front of this process), else the socket's peer. A request without a peer
    address (a server on a Unix socket may send none) is the client "unknown": a limit must never crash on it."""
    return BaseThrottle().get_ident(request) or "unknown"


def _windows(key: str, period: int, now: float) -> tuple[str, str, float]:
    """The counter keys of the current and the previous window, and how far into the current one ``now`` is."""
    window = int(now // period)
    return f"{key}:{window}", f"{key}:{window - 1}", now - window * period


def _weighted(current: int, previous: int, elapsed: float, period: int) -> float:
    return previous * (1 - elapsed / period) + current


def _count_request(key: str, previous_key: str, ttl: int) -> tuple[int, int]:
    """Add one to ``key``'s counter; return it and ``previous_key``'s, in one round trip on Redis."""
    client = django_redis_client()
    if client is not None:  # django-redis: a pipeline of raw commands
        current_key = cache.make_key(key)
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        pipeline.incr(current_key)
        pipeline.expire(current_key, ttl)
        pipeline.get(cache.make_key(previous_key))
        current, _, previous = pipeline.execute()
        return int(current), int(previous or 0)
    cache.add(key, 0, timeout=ttl)
    return cache.incr(key), int(cache.get(previous_key) or 0)


def _uncount_request(key: str) -> None:
    client = django_redis_client()
    if client is not None:
        client.get_client(write=True).decr(cache.make_key(key))
    else:
        cache.decr(key)


# Set in the WSGI environ of a request whose anonymous count was taken already, at the edge (count_anonymous_client),
# so that AnonThrottle does not take it twice. Not an HTTP_ name: no client can send it.
ANONYMOUS_COUNTED = "shop.anonymous_throttle_counted"


# One round trip, one command: count in the current window, read the previous one, read the caller's keys. A script
# rather than a pipeline of four commands because the edge answers thousands of requests a second with it, and
# each command in a pipeline costs the client as much again to pack and parse.
_COUNT_THEN_GET = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {current, redis.call('GET', KEYS[2]), unpack(redis.call('MGET', unpack(KEYS, 3)))}
"""
_count_then_get_script = HotScript(_COUNT_THEN_GET)


def _count_then_get(connection: Any, current_key: str, previous_key: str, raw_keys: list[str], *,
                    ttl: int) -> tuple[int, int, list[bytes | None]]:
    """Add one to the counter ``current_key``, and read it, ``previous_key``'s counter and the raw values of
    ``raw_keys``, in one command (all keys already made by the cache)."""
    current, previous, *values = _count_then_get_script(connection, keys=[current_key, previous_key, *raw_keys],
                                                        args=[ttl])
    return int(current), int(previous or 0), values


def count_anonymous_client(ident: str, *, then_get: list[str]) -> tuple[bool, list[bytes | None]] | None:
    """Count a request of the anonymous client ``ident`` against the anonymous limit and read the raw values of the
    cache keys ``then_get`` in the same round trip, for a caller that answers from the cache before a view would.
    Returns whether the request is allowed (a refused one is not counted, and the view's own throttle will refuse it
    properly) and the values, undecoded; None when the cache is not Redis. The caller marks an allowed request that
    it passes on with ``ANONYMOUS_COUNTED``."""
    client = django_redis_client()
    if client is None:
        return None
    connection = client.get_client(write=True)
    make_key = cache.make_key
    raw_keys = [make_key(name) for name in then_get]
    throttle = AnonThrottle()
    if throttle.rate is None:
        return True, connection.mget(raw_keys)
    key = throttle.cache_format % {"scope": throttle.scope, "ident": ident}
    current_key, previous_key, elapsed = _windows(key, throttle.duration, time.time())
    current, previous, values = _count_then_get(connection, make_key(current_key), make_key(previous_key), raw_keys,
                                                ttl=2 * throttle.duration)
    if _weighted(current, previous, elapsed, throttle.duration) > throttle.num_requests:
        _uncount_request(current_key)
        return False, values
    return True, values


# Set on a request counted against its user's limit at authentication (count_user_request).
_USER_COUNTED = "_user_throttle_counted"


@dataclass(frozen=True)
class _Count:
    key: str
    current_key: str
    current: int
    previous: int
    elapsed: float


# Set on a Django request counted before its view (count_user_request_early) that goes on to the view after all:
# the view's authentication takes this count, and the values read with it, instead of counting and reading again.
_USER_COUNTED_EARLY = "_user_throttle_counted_early"


@dataclass(frozen=True)
class _EarlyCount:
    count: _Count
    found: dict[str, object]
    names: frozenset[str]


def _user_throttle(view: object) -> UserThrottle | None:
    """The user throttle of a view (or view class), when the cache is Redis and the view has one with a rate."""
    throttle_class = next((cls for cls in getattr(view, "throttle_classes", ()) if issubclass(cls, UserThrottle)),
                          None)
    if django_redis_client() is None or throttle_class is None:
        return None
    throttle = throttle_class()
    return throttle if throttle.rate is not None else None


def _count_and_read(throttle: UserThrottle, *, user_id: int, then_get: list[str]) -> tuple[_Count, dict[str, object]]:
    """One round trip: add one to the user's count and read it with the previous window's and ``then_get``."""
    client = django_redis_client()
    key = throttle.cache_format % {"scope": throttle.scope, "ident": user_id}
    current_key, previous_key, elapsed = _windows(key, throttle.duration, time.time())
    make_key = cache.make_key
    current, previous, values = _count_then_get(client.get_client(write=True), make_key(current_key),
                                                make_key(previous_key), [make_key(name) for name in then_get],
                                                ttl=2 * throttle.duration)
    counted = _Count(key=key, current_key=current_key, current=current, previous=previous, elapsed=elapsed)
    return counted, {name: client.decode(value) for name, value in zip(then_get, values, strict=True)
                     if value is not None}


def count_user_request(request, *, user_id: int, then_get: list[str]) -> dict[str, object] | None:
    """Count a signed-in user's ``request`` against the user limit of the view it is for and read the cache keys
    ``then_get`` in the same round trip; ``UserThrottle`` then judges the request from this count instead of counting
    it again. Returns the values found; None (nothing counted) when the cache is not Redis or the view has no user
    throttle: the caller reads ``then_get`` itself. A request counted already before its view, with these keys
    read, is not counted or read again (``count_user_request_early``)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    early = _take_early_count(request)
    throttle = _user_throttle(view)
    if throttle is None:
        if early is not None:
            _uncount_request(early.count.current_key)
        return None
    if early is not None:
        if early.count.key == throttle.cache_format % {"scope": throttle.scope, "ident": user_id} \
                and early.names.issuperset(then_get):
            setattr(request, _USER_COUNTED, early.count)
            return {name: early.found[name] for name in then_get if name in early.found}
        _uncount_request(early.count.current_key)
    counted, found = _count_and_read(throttle, user_id=user_id, then_get=then_get)
    setattr(request, _USER_COUNTED, counted)
    return found


def count_user_request_early(request, view_class: type, *, user_id: int,
                             then_get: list[str]) -> tuple[bool, dict[str, object]] | None:
    """Count a signed-in user's ``request`` against the user limit of ``view_class`` before any view runs, and read
    the cache keys ``then_get`` in the same round trip, for a caller that may answer it from the cache (the caller
    has verified the user's token). Returns whether the request is within the limit and the values found; None
    (nothing counted) when the cache is not Redis or the view has no user throttle. A request that goes on to the
    view after all keeps its count: the view's authentication takes it with the values read (``count_user_request``),
    ``UserThrottle`` judges it and the API's exception handler gives it back if it is refused first, exactly as if
    it had been counted there."""
    throttle = _user_throttle(view_class)
    if throttle is None:
        return None
    counted, found = _count_and_read(throttle, user_id=user_id, then_get=then_get)
    setattr(request, _USER_COUNTED_EARLY, _EarlyCount(count=counted, found=found, names=frozenset(then_get)))
    allowed = _weighted(counted.current, counted.previous, counted.elapsed, throttle.duration) <= throttle.num_requests
    return allowed, found


def _take_early_count(request) -> _EarlyCount | None:
    django_request = getattr(request, "_request", request)  # DRF's request wraps Django's
    return vars(django_request).pop(_USER_COUNTED_EARLY, None)


def _take_user_count(request) -> _Count | None:
    """The request's count from authentication, once: whoever takes it judges it or gives it back."""
    counted = getattr(request, _USER_COUNTED, None)
    if counted is not None:
        delattr(request, _USER_COUNTED)
    return counted


def uncount_user_request(request) -> None:
    """Take back the count of a request refused before its throttle judged it. Failing to only costs the user one
    request of their allowance, so it never turns the refusal being answered into an error."""
    counted = _take_user_count(request)
    if counted is None:
        return
    try:
        _uncount_request(counted.current_key)
    except Exception:
        logger.warning("could not take back the throttle count of a refused request", exc_info=True)


class _CountingThrottle:
    """Sliding-window counting for DRF's rate throttles (see the module docstring)."""

    num_requests: int | None
    duration: int | None

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        if rate is None:
            return None, None
        return parse_rate(rate)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        counted = getattr(request, _USER_COUNTED, None)
        if counted is not None and counted.key == key:
            return self._judge(_take_user_count(request))
        current_key, previous_key, elapsed = _windows(key, self.duration, time.time())
        current, previous = _count_request(current_key, previous_key, ttl=2 * self.duration)
        return self._judge(_Count(key=key, current_key=current_key, current=current, previous=previous,
                                  elapsed=elapsed))

    def _judge(self, counted: _Count) -> bool:
        """Allow a counted request within the limit; take back the count of one over it."""
        self._current, self._previous, self._elapsed = counted.current, counted.previous, counted.elapsed
        if _weighted(self._current, self._previous, self._elapsed, self.duration) <= self.num_requests:
            return True
        _uncount_request(counted.current_key)
        self._current -= 1
        return False

    def wait(self) -> float:
        """Seconds until a request would be allowed again."""
        limit, period = self.num_requests, self.duration
        if self._current >= limit:
            # Past this window, only this window's count remains, fading as the next one advances.
            seconds = (period - self._elapsed) + period * (1 - (limit - 1) / self._current)
        else:
            seconds = period * (1 - (limit - self._current - 1) / max(self._previous, 1)) - self._elapsed
        return max(1, math.ceil(seconds))


class AnonThrottle(_CountingThrottle, AnonRateThrottle):
    def get_rate(self) -> str:
        return settings.ECOMMERCE_THROTTLE_ANON

    def allow_request(self, request, view) -> bool:
        if request.META.get(ANONYMOUS_COUNTED):
            return True
        return super().allow_request(request, view)


class UserThrottle(_CountingThrottle, UserRateThrottle):
    def get_rate(self) -> str:
        return settings.ECOMMERCE_THROTTLE_USER

    def get_cache_key(self, request, view) -> str | None:
        # Anonymous callers are AnonThrottle's (by IP, at the lower anonymous rate); counting them here too would
        # cost a second round trip per request and could never refuse one that AnonThrottle lets through.
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
