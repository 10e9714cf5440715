"""Named versions in the shared cache: how one process tells every other (the gateway, other roles, other workers)
that what they cached from its data is out of date.

Rules guarded here:
- A writer bumps a version twice: at once, and again after its transaction commits. The second bump is the one that
  matters: a reader that cached the old rows between the first bump and the commit is invalidated by it. The first
  makes the change visible to reads inside the same transaction (and to tests, whose transactions never commit).
- A reader reads the versions *before* it reads the data it will cache, and stores them beside it. An entry is
  valid only while every version it was stored with is still current, so a change that commits after the read
  invalidates it, whenever it lands.
- A version that is missing (never set, evicted, cache flushed) is created with a random value, never reset to a
  small number, so an entry stored under an earlier life of the key can never match again by accident.
- A cache that is down never fails a write: the bump is logged and skipped, and cached entries age out by their
  time to live, which every user of these versions must set.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

KEY_PREFIX = "cache-version:"
Versions = tuple[int, ...]


def version_key(name: str) -> str:
    return f"{KEY_PREFIX}{name}"


def _fresh() -> int:
    return secrets.randbits(62)


def _bump_now(names: tuple[str, ...]) -> None:
    for name in names:
        key = version_key(name)
        try:
            try:
                cache.incr(key)
            except ValueError:  # missing: start a new life of the key
                cache.set(key, _fresh(), timeout=None)
        except Exception:  # a cache outage must not undo or fail the write that caused the bump
            logger.warning("could not bump cache version %s", name, exc_info=True)


def bump(*names: str) -> None:
    """Invalidate everything cached under these versions, now and once more when the current transaction commits
    (at once when there is none)."""
    _bump_now(names)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump_now(names), robust=True)


def current(values: dict[str, object], names: Iterable[str]) -> Versions:
    """The versions named, from ``values`` (the answer of a ``get_many`` that included their keys); missing ones are
    created. Readers fetch versions in the same round trip as their entries and finish here."""
    found: list[int] = []
    for name in names:
        value = values.get(version_key(name))
        if not isinstance(value, int):
            key = version_key(name)
            cache.add(key, _fresh(), timeout=None)
            value = cache.get(key)
        found.append(value if isinstance(value, int) else -1)
    return tuple(found)


def read(*names: str) -> Versions:
    keys = [version_key(name) for name in names]
    return current(cache.get_many(keys), names)
