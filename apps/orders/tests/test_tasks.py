"""Workers: expiry through the contract, the retry of stock effects and the purge of old idempotency keys."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.orders import services, tasks
from apps.orders.models import CheckoutAttempt, Order
from apps.orders.tests.conftest import ContractProxy, available, fail_once
from ecommerce.contracts.orders import OrderStatus
from ecommerce.contracts.products import products_service
from ecommerce.errors import ServiceUnavailable


def test_the_expiry_task_cancels_old_unpaid_orders_through_the_contract(rpc_mode, place_order, make_product):
    product = make_product(stock=5)
    order = place_order(product=product)
    Order.objects.filter(pk=order.id).update(created_at=timezone.now() - timedelta(hours=1))

    expired = tasks.expire_unpaid_orders.delay().get()

    assert expired == 1
    assert Order.objects.get(pk=order.id).status == "canceled"
    assert available(product) == 5


def test_a_failed_stock_release_is_retried_by_a_worker(place_order, make_product, monkeypatch):
    # given the catalog fails the first release call
    product = make_product(stock=5)
    order = place_order(product=product)
    flaky_release = fail_once(products_service.stock_release, ServiceUnavailable("products down"))
    monkeypatch.setattr(services, "products_service", ContractProxy(products_service, stock_release=flaky_release))

    # when the order is canceled
    canceled = services.order_cancel(order_id=order.id, user_id=None, actor_id=1)

    # then the cancellation stands and the worker gave the stock back
    assert canceled.status == "canceled"
    assert len(flaky_release.calls) == 2
    assert available(product) == 5


def test_the_stock_task_derives_the_effect_from_the_status(place_order, make_product):
    product = make_product(stock=5)
    shipped = place_order(OrderStatus.SHIPPED, product=product)
    assert available(product) == 3

    tasks.sync_order_stock.delay(str(shipped.id)).get()

    assert available(product) == 3  # committing twice takes nothing more


def test_the_purge_task_forgets_keys_older_than_the_ttl(db, settings):
    settings.ECOMMERCE_IDEMPOTENCY_TTL_SECONDS = 60
    CheckoutAttempt.objects.create(user_id=1, idempotency_key="a", request_fingerprint="f",
                                   created_at=timezone.now() - timedelta(seconds=61))

    assert tasks.purge_expired_checkout_attempts.delay().get() == 1
    assert not CheckoutAttempt.objects.exists()
