"""Walks a URLconf, so tests can make claims about every route a process serves rather than a hand-picked few."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    pattern: str
    callback: Callable[..., Any]

    @property
    def view(self) -> Any:
        """The function or the class behind ``as_view()``."""
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None) or self.callback


def routes(urlconf: str) -> list[Route]:
    return list(_walk(get_resolver(urlconf).url_patterns, ""))


def _walk(patterns: list[Any], prefix: str) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield Route(prefix + str(entry.pattern), entry.callback)
