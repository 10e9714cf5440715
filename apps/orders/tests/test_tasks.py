"""Workers: expiry through the contract, the follow-up sweep that redoes what a failed call or a crash left undone,
and the purge of old idempotency keys."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.orders import services, tasks
from apps.orders.models import CheckoutAttempt, Order
from apps.orders.services import checkout as checkout_steps
from apps.orders.services import followups, transitions
from apps.orders.tests.conftest import ContractProxy, available, checkout, fail_once, fill_cart
from ecommerce.contracts.carts import carts_service
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


def test_a_failed_stock_release_is_redone_by_the_sweep(place_order, make_product, monkeypatch):
    # given the catalog fails the first release call
    product = make_product(stock=5)
    order = place_order(product=product)
    flaky_release = fail_once(products_service.stock_release, ServiceUnavailable("products down"))
    monkeypatch.setattr(followups, "products_service", ContractProxy(products_service, stock_release=flaky_release))

    # when the order is canceled, and the sweep runs after the grace period
    canceled = services.order_cancel(order_id=order.id, user_id=None, actor_id=1)
    assert available(product) == 3
    resumed = services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))

    # then the cancellation stands and the sweep gave the stock back
    assert canceled.status == "canceled"
    assert resumed == 1
    assert len(flaky_release.calls) == 2
    assert available(product) == 5


def test_the_sweep_derives_the_effect_from_the_status(place_order, make_product):
    product = make_product(stock=5)
    shipped = place_order(OrderStatus.SHIPPED, product=product)
    assert available(product) == 3
    Order.objects.filter(pk=shipped.id).update(followup_pending=True)

    resumed = services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))

    assert resumed == 1
    assert available(product) == 3  # a shipped order keeps its units taken; the sweep gives nothing back
    assert Order.objects.get(pk=shipped.id).followup_pending is False


def test_the_purge_task_forgets_keys_older_than_the_ttl(db, settings):
    settings.ECOMMERCE_IDEMPOTENCY_TTL_SECONDS = 60
    CheckoutAttempt.objects.create(user_id=1, idempotency_key="a", request_fingerprint="f",
                                   created_at=timezone.now() - timedelta(seconds=61))

    assert tasks.purge_expired_checkout_attempts.delay().get() == 1
    assert not CheckoutAttempt.objects.exists()


def test_a_checkout_whose_process_died_after_commit_is_finished_by_the_sweep(shopper, make_product, monkeypatch):
    # given a checkout that committed its order but died before confirming the reservation and completing the claim
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    monkeypatch.setattr(checkout_steps, "order_followups_run", lambda **_: False)
    order = checkout(user, address).order
    monkeypatch.undo()
    assert Order.objects.get(pk=order.id).followup_pending is True

    confirmed: list[object] = []

    def confirm(**arguments: object) -> None:
        confirmed.append(arguments["order_id"])
        products_service.stock_reservation_confirm(**arguments)

    monkeypatch.setattr(followups, "products_service",
                        ContractProxy(products_service, stock_reservation_confirm=confirm))

    # when the sweep runs after the grace period
    resumed = services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))

    # then the reservation is confirmed (so it never lapses), the claim is completed and the stock stays reserved
    assert resumed == 1
    assert confirmed == [order.id]
    assert Order.objects.get(pk=order.id).followup_pending is False
    assert available(product) == 3
    carts_service.cart_claim_release(order_id=order.id)  # a completed claim can no longer be given back
    assert carts_service.cart_get(user_id=user.id).items == []


def test_a_cancel_whose_process_died_before_releasing_stock_is_released_by_the_sweep(place_order, make_product,
                                                                                     monkeypatch):
    # given a cancellation committed without its stock release
    product = make_product(stock=5)
    order = place_order(product=product)
    monkeypatch.setattr(transitions, "order_followups_run", lambda **_: False)
    services.order_cancel(order_id=order.id, user_id=None, actor_id=1)
    monkeypatch.undo()
    assert available(product) == 3

    # when the sweep runs (and again: nothing happens twice)
    first = services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))
    second = services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))

    # then the stock is back exactly once
    assert (first, second) == (1, 0)
    assert available(product) == 5


def test_the_sweep_leaves_fresh_followups_to_the_request_doing_them(place_order):
    order = place_order()
    Order.objects.filter(pk=order.id).update(followup_pending=True)

    assert services.orders_followups_resume() == 0
