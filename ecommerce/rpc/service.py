"""Contract base class and the delegator that hands each call to the in-process implementation or to the role that
serves the contract over signed HTTP, as the deployment module decides. Callers never know which."""

from __future__ import annotations

import abc
import inspect
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar, TypeVar, get_type_hints

from django.utils.module_loading import import_string
from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from ecommerce import deployment

F = TypeVar("F", bound=Callable[..., Any])
_IDEMPOTENT_ATTR = "__rpc_idempotent__"


def rpc_method(*, idempotent: bool) -> Callable[[F], F]:
    """Declare whether a contract method may be retried safely after a transport failure."""

    def mark(func: F) -> F:
        setattr(func, _IDEMPOTENT_ATTR, idempotent)
        return func

    return mark


class Service(abc.ABC):
    """Base of every contract. Subclasses declare abstract, keyword-only, typed methods and name their local
    implementation by dotted path, so that the contract module never imports the app that implements it."""

    service_name: ClassVar[str]
    local_implementation: ClassVar[str]


class MethodSpec:
    """What the transport needs to know about one contract method: how to (de)serialise arguments and result."""

    def __init__(self, contract: type[Service], name: str) -> None:
        self.contract = contract
        self.name = name
        self.function = getattr(contract, name)
        self.idempotent: bool = getattr(self.function, _IDEMPOTENT_ATTR, False)
        hints = get_type_hints(self.function)
        fields: dict[str, Any] = {}
        for parameter in inspect.signature(self.function).parameters.values():
            if parameter.name == "self":
                continue
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(f"{contract.__name__}.{name}: contract arguments must be keyword-only")
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[parameter.name] = (hints[parameter.name], default)
        self.arguments_model: type[BaseModel] = create_model(
            f"{contract.__name__}_{name}_Arguments",
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
            **fields,
        )
        self.result_adapter: TypeAdapter[Any] = TypeAdapter(hints.get("return", type(None)))

    def dump_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        # Unset fields stay unset on the far side, so a partial update means the same thing in both modes.
        return self.arguments_model(**arguments).model_dump(mode="json", exclude_unset=True)

    def load_arguments(self, payload: dict[str, Any]) -> dict[str, Any]:
        model = self.arguments_model.model_validate(payload)
        return {field: getattr(model, field) for field in type(model).model_fields}

    def dump_result(self, result: Any) -> Any:
        return self.result_adapter.dump_python(result, mode="json")

    def load_result(self, payload: Any) -> Any:
        return self.result_adapter.validate_python(payload)


def contract_methods(contract: type[Service]) -> dict[str, MethodSpec]:
    cached = contract.__dict__.get("_method_specs")
    if cached is None:
        cached = {name: MethodSpec(contract, name) for name in sorted(contract.__abstractmethods__)}
        contract._method_specs = cached  # type: ignore[attr-defined]
    return cached


class ServiceDelegator:
    """The object callers import (``ecommerce.contracts.products.products_service``). It resolves lazily to the
    local implementation or a remote one, as :mod:`ecommerce.deployment` decides, and forgets both whenever the
    deployment changes (it registers itself there), so settings may change between tests."""

    _instances: ClassVar[list[ServiceDelegator]] = []

    def __init__(self, contract: type[Service]) -> None:
        self.contract = contract
        self._lock = threading.RLock()  # _resolve holds it while local() takes it again
        self._target: Any = None
        self._local: Service | None = None
        ServiceDelegator._instances.append(self)
        deployment.register_cache(self.reset)

    @cached_property
    def methods(self) -> dict[str, MethodSpec]:
        return contract_methods(self.contract)

    def local(self) -> Service:
        """The in-process implementation, whatever the mode: what the internal endpoint dispatches to."""
        with self._lock:
            if self._local is None:
                self._local = import_string(self.contract.local_implementation)()
            return self._local

    def _resolve(self) -> Any:
        with self._lock:
            if self._target is None:
                if deployment.serves_locally(self.contract.service_name):
                    self._target = self.local()
                else:
                    from ecommerce.rpc.client import RemoteService

                    self._target = RemoteService(self.contract, self.methods)
            return self._target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._resolve(), name)

    def reset(self) -> None:
        with self._lock:
            self._target = None
            self._local = None

    @classmethod
    def by_name(cls, service_name: str) -> ServiceDelegator | None:
        return next((d for d in cls._instances if d.contract.service_name == service_name), None)
