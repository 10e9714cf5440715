"""Query strings read as strictly as the OpenAPI document describes them.

DRF reads a ``QueryDict`` as an HTML form: an empty value (``?status=``) counts as "not given" and a boolean takes
``1``, ``yes``, ``null`` and more. The document states an enum, an integer or ``true``/``false``, so a value outside it
must be a 400, not silently ignored or guessed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


def flat_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """The query's values as a plain mapping (the last of a repeated name), so an empty value is validated as one."""
    return {name: params[name] for name in params}


class QueryBooleanField(serializers.BooleanField):
    """``true`` or ``false``, as the document's boolean parameters are written; nothing else."""

    def to_internal_value(self, data: Any) -> bool:
        if data in {"true", True}:
            return True
        if data in {"false", False}:
            return False
        self.fail("invalid", input=data)
        raise AssertionError  # fail() raises
