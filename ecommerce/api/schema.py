"""OpenAPI generation that documents the problem-details answers each operation really gives: validation errors
on bodies, 401/403 from its permissions, 404 on addressed resources, 429 everywhere, plus what a view declares."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework import serializers

from ecommerce.api.problems import PROBLEM_CONTENT_TYPE
from ecommerce.permissions import IsAuthenticatedPrincipal


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Messages per field (validation_error, voucher_invalid).",
    )
    lines = serializers.ListField(
        child=serializers.DictField(), required=False,
        help_text="insufficient_stock: the short lines `{product_id, requested, available}`; price_changed: the "
        "lines whose price changed `{product_id, old_unit_price, new_unit_price}`.")
    reason = serializers.CharField(required=False, help_text="voucher_invalid only: why the voucher cannot be used.")


_DESCRIPTIONS = {
    400: "Invalid input (validation_error)",
    401: "Missing or invalid access token (not_authenticated)",
    403: "Authenticated but lacking the role (permission_denied)",
    404: "Not found, or not yours (not_found)",
    409: "Conflict with the current state",
    422: "Idempotency key reused with another body (idempotency_conflict)",
    429: "Throttled (throttled); see Retry-After",
    503: "A service is unavailable (service_unavailable)",
}


class ProblemAwareAutoSchema(AutoSchema):
    def _problem_statuses(self) -> set[int]:
        statuses = {429} if self.view.get_throttles() else set()
        if self.method in {"POST", "PUT", "PATCH"} or (self.method == "GET" and self._is_list_view()):
            statuses.add(400)
        permissions = self.view.get_permissions()
        if any(isinstance(p, IsAuthenticatedPrincipal) for p in permissions):
            statuses.add(401)
        if any(getattr(p, "required_roles", None) for p in permissions):
            statuses.add(403)
        if "{" in self.path:
            statuses.add(404)
        statuses.update(getattr(self.view, "problem_statuses", {}).get(self.method, ()))
        return statuses

    def get_auth(self) -> list[dict[str, list[str]]]:
        # A permission that admits a credential besides the bearer token (a guest's cart token) names it as
        # ``alternative_credentials`` {scheme name: OpenAPI security scheme}; the document lists it as an alternative.
        requirements = super().get_auth()
        for permission in self.view.get_permissions():
            for name, definition in getattr(permission, "alternative_credentials", {}).items():
                self.registry.register_on_missing(ResolvedComponent(
                    name=name, type=ResolvedComponent.SECURITY_SCHEMA, object=type(permission), schema=definition))
                requirements.append({name: []})
        return requirements

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        # drf-spectacular documents every PATCH body as partial (all fields optional), as DRF's generic views validate
        # it. A serializer that a view validates whole on PATCH says so with ``whole_on_patch = True``.
        if self.method == "PATCH" and getattr(force_instance(serializer), "whole_on_patch", False):
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in sorted(self._problem_statuses()):
            key = str(status)
            if key not in responses:
                response = self._get_response_for_code(ProblemSerializer, key, [PROBLEM_CONTENT_TYPE], direction)
                response["description"] = _DESCRIPTIONS.get(status, "Problem details")
                responses[key] = response
        return responses


class StatelessJWTScheme(SimpleJWTScheme):
    """Documents the gateway's bearer tokens; it is the library's JWT scheme, pointed at our authenticator."""

    target_class = "ecommerce.auth.StatelessJWTAuthentication"
