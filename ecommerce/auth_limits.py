"""Limits on sign-in attempts, registrations, and password-reset and verification e-mails, shared by every process
through the default cache (Redis in any real deployment), for the API's login and every Django admin alike.

Rules guarded here:

- An attempt takes its slot in every counter atomically (an increment, then a comparison) *before* the password is
  checked, so concurrent requests can never get more password checks than the limit. A successful sign-in gives its
  slot back: only failures count.
- Failures are limited per (account, client) first, then per client, and per account only by a ceiling far above
  what a person types. A stranger guessing from elsewhere fills their own counters, not the owner's: the owner signs
  in from their own device until the ceiling, which only a distributed attack reaches.
- A successful password reset starts the account's counters afresh, so the owner is never locked out for long.
- Reset e-mails are limited per client and per account; the caller's answer is the same either way.
- Every registration attempt is counted per client, before any work: an answer saying an address is taken tells
  which addresses have accounts, and each account created sends a verification e-mail to whatever address was given.
- Verification e-mails asked for again are limited per account and per client; the signed-in caller is told to wait.

Counters are fixed windows named after their start, so they expire by themselves. A refused attempt gives back the
slots it took, so being refused never fills a wider counter (a client over its pair limit does not eat into the
account's ceiling). When the cache cannot be reached, nothing is checked and the caller gets 503: a limiter that
fails open during an outage would be an invitation.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache

from ecommerce.errors import InvalidCredentials, ServiceUnavailable
from ecommerce.throttling import parse_rate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    key: str
    rate: str  # e.g. "10/15min"
    scope: str = ""  # what it locks, for the person refused: "account", "client" or "account_client"


class Slots(NamedTuple):
    taken: list[str]  # the counters this attempt holds
    wait: int | None  # None when allowed, else the seconds until the full limit's window ends
    refused_by: Limit | None = None  # the full limit that refused it


def _digest(text: str) -> str:
    # A client chooses the e-mail (and, behind no proxy, the forwarded address) it sends: keep keys short and printable.
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:40]


def _increment(key: str, ttl: int) -> int:
    # add() creates the counter with its expiry only if it is missing; incr() is atomic in Redis and in locmem.
    for _ in range(2):
        cache.add(key, 0, timeout=ttl)
        try:
            return cache.incr(key)
        except ValueError:  # it expired between the two calls: its window just ended, start the next one
            continue
    raise RuntimeError(f"counter {key} vanished twice")


def _give_back(keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # its window has ended: nothing left to give back
            cache.decr(key)


def take_slots(limits: list[Limit]) -> Slots:
    """Count one attempt against each limit, in order. Returns the counters taken, or, at the first full limit, gives
    back what it took and names that limit and the seconds until its window ends."""
    windows = []
    now = int(time.time())
    for limit in limits:
        count, period = parse_rate(limit.rate)
        start = now // period * period
        windows.append((limit, f"{limit.key}:{start}", count, start + period - now))
    taken: list[str] = []
    try:
        for limit, key, count, remaining in windows:
            taken.append(key)
            if _increment(key, remaining + 1) > count:
                _give_back(taken)
                return Slots([], max(1, remaining), limit)
    except Exception as error:  # any cache failure: refuse to decide without the counters
        logger.warning("the shared cache did not answer a limit check: %s", type(error).__name__)
        raise ServiceUnavailable("Request limits cannot be checked right now; try again shortly.") from error
    return Slots(taken, None)


# --- sign-in ------------------------------------------------------------------------------------------------------
def _generation_key(account: str) -> str:
    return f"login:generation:{account}"


def _login_rates() -> list[str]:
    return [settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT_IP, settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_IP,
            settings.ECOMMERCE_THROTTLE_LOGIN_FAILURES_ACCOUNT]


class LoginAttempt:
    """One sign-in attempt: ``begin()`` before the password check, ``succeeded()`` after a correct one. A failed
    attempt simply keeps its slot."""

    def __init__(self, *, email: str, client: str) -> None:
        self.account = _digest(email)
        self.client = _digest(client)
        self._taken: list[str] = []
        self.refused_by: Limit | None = None  # after a refused ``begin()``: the limit that refused it

    def limits(self) -> list[Limit]:
        generation = cache.get(_generation_key(self.account)) or "0"
        pair_rate, client_rate, account_rate = _login_rates()
        return [
            Limit(f"login:pair:{self.account}:{generation}:{self.client}", pair_rate, "account_client"),
            Limit(f"login:client:{self.client}", client_rate, "client"),
            Limit(f"login:account:{self.account}:{generation}", account_rate, "account"),
        ]

    def begin(self) -> int | None:
        """None when the password may be checked, else the seconds to wait."""
        try:
            limits = self.limits()
        except Exception as error:  # the generation read failed: same answer as a failed count
            raise ServiceUnavailable("Request limits cannot be checked right now; try again shortly.") from error
        self._taken, wait, self.refused_by = take_slots(limits)
        return wait

    def succeeded(self) -> None:
        taken, self._taken = self._taken, []
        try:
            _give_back(taken)
        except Exception:  # the slot then expires with its window; the sign-in itself must not fail for it
            logger.warning("could not give back a successful sign-in's slot", exc_info=True)

    @contextmanager
    def checking(self) -> Iterator[None]:
        """Around the password check: only wrong credentials keep the slot; anything else (a correct password, the
        users service being down) gives it back."""
        try:
            yield
        except InvalidCredentials:
            raise
        except BaseException:
            self.succeeded()
            raise
        self.succeeded()


def login_failures_forget(*, email: str) -> None:
    """Starts the account's counters afresh (after its owner reset the password). The per-client counters stay."""
    account = _digest(email)
    longest = max(parse_rate(rate)[1] for rate in _login_rates())
    try:
        # Outlives every window counted under the old generation, so an expired generation cannot bring one back.
        cache.set(_generation_key(account), uuid.uuid4().hex, timeout=longest + 60)
    except Exception:  # the counters then end with their windows; the reset itself must not fail for it
        logger.warning("could not clear the sign-in counters of an account after a reset", exc_info=True)


# --- password reset e-mails ---------------------------------------------------------------------------------------
def password_reset_mail_allowed(*, email: str, client: str) -> bool:
    """Counts a reset request per client, then per account; False once either is over its limit."""
    wait = take_slots([
        Limit(f"reset:client:{_digest(client)}", settings.ECOMMERCE_THROTTLE_PASSWORD_RESET_IP),
        Limit(f"reset:account:{_digest(email)}", settings.ECOMMERCE_THROTTLE_PASSWORD_RESET_ACCOUNT),
    ]).wait
    return wait is None


# --- registrations and verification e-mails -----------------------------------------------------------------------
def registration_wait(*, client: str) -> int | None:
    """Counts a registration attempt from this client: None when it may go ahead, else the seconds to wait."""
    wait = take_slots([Limit(f"register:client:{_digest(client)}", settings.ECOMMERCE_THROTTLE_REGISTER_IP)]).wait
    return wait


def verification_mail_wait(*, user_id: int, client: str) -> int | None:
    """Counts a request for another verification e-mail, per client then per account: None when one may be sent,
    else the seconds to wait."""
    wait = take_slots([
        Limit(f"verify-mail:client:{_digest(client)}", settings.ECOMMERCE_THROTTLE_VERIFY_EMAIL_IP),
        Limit(f"verify-mail:account:{int(user_id)}", settings.ECOMMERCE_THROTTLE_VERIFY_EMAIL_ACCOUNT),
    ]).wait
    return wait
