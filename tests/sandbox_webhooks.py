"""The sandbox processor's webhooks, delivered by its real delivery task into the app under test, in process.

The task builds, signs and posts each event exactly as it does in production; only the socket is replaced by an
HTTP transport that hands the request to Django's test client (the same URL routing, view, contract and signature
check as over the network, on the test's own database connection and inside its transaction). A test then decides
when the processor's worker runs, as it would with a broker: confirmations write their events, ``deliver()`` runs
the worker's task for every event still owed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest
from django.test import Client

from apps.orders.sandbox_processor import delivery, tasks
from apps.orders.sandbox_processor.models import WebhookEvent

_NOT_FORWARDED = {"content-type", "content-length", "host"}


class InProcessTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = Client().generic(
            request.method, request.url.raw_path.decode(), data=request.read(),
            content_type=request.headers.get("content-type", ""),
            headers={name: value for name, value in request.headers.items() if name.lower() not in _NOT_FORWARDED},
        )
        return httpx.Response(response.status_code, headers=dict(response.items()), content=response.content,
                              request=request)


@dataclass
class SandboxWebhooks:
    transport: InProcessTransport = field(default_factory=InProcessTransport)

    def owed(self) -> list[WebhookEvent]:
        return list(WebhookEvent.objects.filter(delivered_at=None, abandoned_at=None).order_by("created_at"))

    def deliver(self) -> list[bool]:
        """Run the processor's delivery task for every event still owed; whether each was acknowledged."""
        return [tasks.deliver_webhook.delay(event.id).get() for event in self.owed()]


@pytest.fixture
def sandbox_webhooks(monkeypatch: pytest.MonkeyPatch) -> SandboxWebhooks:
    webhooks = SandboxWebhooks()
    monkeypatch.setattr(delivery, "http_client", lambda: httpx.Client(transport=webhooks.transport))
    return webhooks
