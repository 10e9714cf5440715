"""Fixtures of the public API's tests."""

from tests.sandbox_webhooks import sandbox_webhooks  # noqa: F401 - the processor's webhooks, delivered in process
