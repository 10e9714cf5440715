"""Payment providers, chosen by name. ``ECOMMERCE_PAYMENT_PROVIDER`` is the one new payments use and the only one
whose webhooks are accepted; a payment made earlier with another provider is still refunded through it."""

from __future__ import annotations

from django.conf import settings

from apps.orders.providers.base import PaymentProvider
from apps.orders.providers.sandbox_provider import SandboxProvider
from apps.orders.providers.stripe_provider import StripeProvider
from ecommerce.errors import NotFound

PROVIDERS: dict[str, type[PaymentProvider]] = {
    provider.name: provider for provider in (SandboxProvider, StripeProvider)
}


def provider_named(name: str) -> PaymentProvider:
    """The provider that holds a payment (for its refund or confirmation)."""
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise NotFound(f"No payment provider named {name!r}.") from None


def provider_in_use() -> PaymentProvider:
    """The provider new payments are made with."""
    return provider_named(settings.ECOMMERCE_PAYMENT_PROVIDER)


def provider_receiving_webhooks(name: str) -> PaymentProvider:
    """Webhooks are accepted from the provider in use only: another provider's endpoint is not there (404)."""
    if name != settings.ECOMMERCE_PAYMENT_PROVIDER:
        raise NotFound(f"No webhook endpoint for {name!r} here.")
    return provider_named(name)
