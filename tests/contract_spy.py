"""A spy on every contract call a piece of code makes, for tests that bound them.

It wraps each method of every contract singleton (``ecommerce.contracts.*.<name>_service``) on the instance, so it
sees calls whichever way the contract is served (in-process or through the loopback RPC path), and it records the
depth of each call: a call made while another contract call is still running is *nested*, which is what a context
calling another context from inside its own contract implementation looks like."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from ecommerce.rpc.service import ServiceDelegator


@dataclass(frozen=True)
class ContractCall:
    service: str
    method: str
    depth: int

    @property
    def name(self) -> str:
        return f"{self.service}.{self.method}"


@dataclass
class ContractCallSpy:
    calls: list[ContractCall] = field(default_factory=list)
    _depth: threading.local = field(default_factory=threading.local)

    @property
    def names(self) -> list[str]:
        return [call.name for call in self.calls]

    @property
    def nested(self) -> list[ContractCall]:
        return [call for call in self.calls if call.depth > 0]

    def clear(self) -> None:
        self.calls.clear()

    def wrap(self, delegator: ServiceDelegator, method: str) -> Callable[..., Any]:
        def call(**arguments: Any) -> Any:
            depth = getattr(self._depth, "value", 0)
            self.calls.append(ContractCall(delegator.contract.service_name, method, depth))
            self._depth.value = depth + 1
            try:
                # Resolved on every call, so the spy follows the delegator into whichever mode is active.
                return ServiceDelegator.__getattr__(delegator, method)(**arguments)
            finally:
                self._depth.value = depth

        return call


@contextmanager
def spying_on_contracts() -> Iterator[ContractCallSpy]:
    """Records every contract call made inside the ``with`` block."""
    spy = ContractCallSpy()
    with pytest.MonkeyPatch.context() as patch:
        for delegator in ServiceDelegator._instances:
            for method in delegator.methods:
                patch.setattr(delegator, method, spy.wrap(delegator, method), raising=False)
        yield spy
