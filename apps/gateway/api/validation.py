"""Input validation for every view of the public API, in one place: a serializer checks a body or a query string,
and a failure is the 400 ``validation_error`` problem naming each bad field."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


def validated(serializer_class: type[serializers.Serializer], data: Any, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
