"""Throttles shared by every process through the default cache (Redis in any real deployment).

Rates read like ``300/min`` or ``10/15min``: a count per a number of seconds, minutes, hours or days. DRF's own
parser reads only the first letter of the period, which would turn ``15min`` into one minute.

A request costs one cache round trip of constant size: requests are counted per fixed window with an atomic
increment, and the previous window's count is weighted by how much of it still lies within the period (a sliding
window, approximated). DRF's own throttles keep the list of every request's time in the period and read and write
it whole on each request: the cost grows with the rate allowed, and two concurrent requests lose one another's
entry. A refused request is not counted, so ``Retry-After`` stays true for a client that waits for it."""

from __future__ import annotations

import math
import re
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, UserRateThrottle

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
                 "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/15min"`` → ``(10, 900)``."""
    match = _RATE.match(rate)
    if not match:
        raise ValueError(f"Unreadable rate {rate!r}; expected e.g. '300/min' or '10/15min'")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNIT_SECONDS[unit]


def client_ip(request: Any) -> str:
    """Who the client is, for every per-client limit (API and admin alike): the address the last trusted proxy saw
    (``ECOMMERCE_NUM_PROXIES`` of them in front of this process), else the socket's peer."""
    return BaseThrottle().get_ident(request)


def _count_request(key: str, previous_key: str, ttl: int) -> tuple[int, int]:
    """Add one to ``key``'s counter; return it and ``previous_key``'s, in one round trip on Redis."""
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):  # django-redis: a pipeline of raw commands
        current_key, earlier_key = cache.make_key(key), cache.make_key(previous_key)
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        pipeline.incr(current_key)
        pipeline.expire(current_key, ttl)
        pipeline.get(earlier_key)
        current, _, previous = pipeline.execute()
        return int(current), int(previous or 0)
    cache.add(key, 0, timeout=ttl)
    return cache.incr(key), int(cache.get(previous_key) or 0)


def _uncount_request(key: str) -> None:
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):
        client.get_client(write=True).decr(cache.make_key(key))
    else:
        cache.decr(key)


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
        limit, period = self.num_requests, self.duration
        now = time.time()
        window = int(now // period)
        self._elapsed = now - window * period
        current_key = f"{key}:{window}"
        self._current, self._previous = _count_request(current_key, f"{key}:{window - 1}", ttl=2 * period)
        weighted = self._previous * (1 - self._elapsed / period) + self._current
        if weighted <= limit:
            return True
        _uncount_request(current_key)
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


class UserThrottle(_CountingThrottle, UserRateThrottle):
    def get_rate(self) -> str:
        return settings.ECOMMERCE_THROTTLE_USER

    def get_cache_key(self, request, view) -> str | None:
        # Anonymous callers are AnonThrottle's (by IP, at the lower anonymous rate); counting them here too would
        # cost a second round trip per request and could never refuse one that AnonThrottle lets through.
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
