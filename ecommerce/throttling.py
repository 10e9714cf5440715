"""Throttles shared by every process through the default cache (Redis in any real deployment).

Rates read like ``300/min`` or ``10/15min``: a count per a number of seconds, minutes, hours or days. DRF's own
parser reads only the first letter of the period, which would turn ``15min`` into one minute."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
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
