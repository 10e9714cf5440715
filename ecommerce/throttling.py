"""Throttles shared by every process through the default cache (Redis in any real deployment).

Rates read like ``300/min`` or ``10/15min``: a count per a number of seconds, minutes, hours or days. DRF's own
parser reads only the first letter of the period, which would turn ``15min`` into one minute."""

from __future__ import annotations

import hashlib
import re
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

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


class _RateParsing:
    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        if rate is None:
            return None, None
        return parse_rate(rate)


class AnonThrottle(_RateParsing, AnonRateThrottle):
    def get_rate(self) -> str:
        return settings.ECOMMERCE_THROTTLE_ANON


class UserThrottle(_RateParsing, UserRateThrottle):
    def get_rate(self) -> str:
        return settings.ECOMMERCE_THROTTLE_USER


class LoginFailureLimiter:
    """Counts failed logins per account and per client IP in fixed windows. Successful logins are not counted,
    so a user who signs in correctly is never locked out by their own traffic."""

    def __init__(self, *, email: str, ip: str) -> None:
        # Hashed: a client chooses the e-mail it sends, and a cache key must stay short and printable.
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        self.keys = [
            (f"login-fail:acct:{account}", settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT),
            (f"login-fail:ip:{ip}", settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP),
        ]

    def _window(self, key: str, rate: str) -> tuple[str, int, int]:
        limit, period = parse_rate(rate)
        window_start = int(time.time()) // period * period
        return f"{key}:{window_start}", limit, window_start + period

    def retry_after(self) -> int | None:
        """Seconds until the caller may try again, or None when no limit is reached."""
        waits = []
        for key, rate in self.keys:
            window_key, limit, window_end = self._window(key, rate)
            if (cache.get(window_key) or 0) >= limit:
                waits.append(max(1, window_end - int(time.time())))
        return max(waits) if waits else None

    def record_failure(self) -> None:
        for key, rate in self.keys:
            window_key, _, window_end = self._window(key, rate)
            timeout = max(1, window_end - int(time.time()))
            if not cache.add(window_key, 1, timeout=timeout):
                try:
                    cache.incr(window_key)
                except ValueError:
                    cache.set(window_key, 1, timeout=timeout)
