"""The remote side of a contract: every method serialises its keyword arguments, sends them through a transport
and turns the answer back into DTOs or re-raises the typed error the callee raised."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ecommerce.errors import ContractError, RemoteServiceError
from ecommerce.rpc.service import MethodSpec, Service
from ecommerce.rpc.transport import get_transport
from ecommerce.tracing import rpc_client_span


class RemoteService:
    def __init__(self, contract: type[Service], methods: dict[str, MethodSpec]) -> None:
        self.contract = contract
        self.methods = methods

    def __getattr__(self, name: str) -> Callable[..., Any]:
        spec = self.methods.get(name)
        if spec is None:
            raise AttributeError(f"{self.contract.__name__} has no contract method {name!r}")

        def call(**arguments: Any) -> Any:
            body = json.dumps(spec.dump_arguments(arguments), separators=(",", ":")).encode()
            transport = get_transport(self.contract.service_name)
            with rpc_client_span(self.contract.service_name, name):
                status, payload = transport.call(
                    service=self.contract.service_name, method=name, body=body, idempotent=spec.idempotent
                )
            if status == 200 and isinstance(payload, dict) and "result" in payload:
                return spec.load_result(payload["result"])
            error = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(error, dict):
                raise ContractError.from_payload(error)
            raise RemoteServiceError()

        call.__name__ = name
        return call
