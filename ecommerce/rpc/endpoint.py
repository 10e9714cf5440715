"""The internal endpoint a role exposes for the contracts it owns. It runs nothing unless the request carries a
valid signature, and it never lets an unexpected exception's details leave the process."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from ecommerce import deployment
from ecommerce.errors import ContractError
from ecommerce.rpc import signing
from ecommerce.rpc.service import ServiceDelegator

logger = logging.getLogger(__name__)


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "detail": detail, "extra": {}}}, status=status)


@csrf_exempt
@require_POST
def rpc_endpoint(request: HttpRequest, service: str, method: str) -> JsonResponse:
    headers = {name: request.headers.get(name, "") for name in (
        signing.TIMESTAMP_HEADER, signing.NONCE_HEADER, signing.SIGNATURE_HEADER)}
    if not signing.verify(request.method or "", request.path, request.body, headers):
        return _error(401, "invalid_signature", "Missing, invalid or replayed signature.")
    delegator = ServiceDelegator.by_name(service)
    if delegator is None or not deployment.owns(service) or method not in delegator.methods:
        return _error(404, "unknown_method", "No such contract method here.")
    spec = delegator.methods[method]
    try:
        arguments = spec.load_arguments(json.loads(request.body or b"{}"))
    except (ValueError, ValidationError):
        return _error(400, "bad_arguments", "Arguments do not match the contract.")
    try:
        result = getattr(delegator.local(), method)(**arguments)
    except ContractError as error:
        return JsonResponse({"error": error.to_payload()}, status=422)
    except Exception:
        logger.exception("contract %s.%s failed", service, method)
        return _error(500, "service_error", "The service failed.")
    return JsonResponse({"result": spec.dump_result(result)}, status=200)
