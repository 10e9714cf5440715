"""``manage.py orders_backfill_customer_emails``: orders placed before checkout copied the customer's e-mail get it
from the users contract, in batches, in both modes; an e-mail already there is never replaced, a second run changes
nothing, and an order whose user is gone stays blank and is counted."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.orders.models import Order
from apps.orders.tests.conftest import checkout, fill_cart
from ecommerce.contracts.users import users_service

pytestmark = pytest.mark.django_db


def run(**options) -> str:
    out = StringIO()
    call_command("orders_backfill_customer_emails", stdout=out, **options)
    return out.getvalue().strip()


@pytest.fixture
def orders_of(make_user, make_address, make_product):
    """Orders placed by a new customer, as they look when placed before the e-mail was copied (blank)."""
    def place(count: int, *, blank: bool = True):
        user = make_user()
        address = make_address(user.id)
        orders = []
        for _ in range(count):
            fill_cart(user.id, (make_product(), 1))
            orders.append(checkout(user, address).order)
        if blank:
            Order.objects.filter(pk__in=[order.pk for order in orders]).update(customer_email="")
        return user, orders

    return place


def emails_of(orders) -> set[str]:
    return set(Order.objects.filter(pk__in=[order.pk for order in orders]).values_list("customer_email", flat=True))


def test_blank_orders_get_their_customers_email_in_batches_and_a_second_run_changes_nothing(rpc_mode, orders_of):
    ada, adas_orders = orders_of(3)
    bob, bobs_orders = orders_of(2)
    _, carols_orders = orders_of(1, blank=False)
    Order.objects.filter(pk=carols_orders[0].pk).update(customer_email="carol.at.checkout@example.com")

    first = run(batch_size=2)
    second = run(batch_size=2)

    assert first == ("Orders without a customer e-mail: 5; filled: 5; "
                     "left blank (user no longer exists): 0.")
    assert (emails_of(adas_orders), emails_of(bobs_orders)) == ({ada.email}, {bob.email})
    assert emails_of(carols_orders) == {"carol.at.checkout@example.com"}  # never replaced
    assert second == ("Orders without a customer e-mail: 0; filled: 0; "
                      "left blank (user no longer exists): 0.")


def test_an_order_whose_user_is_gone_stays_blank_and_is_counted_each_run(orders_of):
    gone, gone_orders = orders_of(2)
    kept, kept_orders = orders_of(1)
    users_service.user_delete(user_id=gone.id)

    first = run()
    second = run()

    assert first == "Orders without a customer e-mail: 3; filled: 1; left blank (user no longer exists): 2."
    assert second == "Orders without a customer e-mail: 2; filled: 0; left blank (user no longer exists): 2."
    assert (emails_of(gone_orders), emails_of(kept_orders)) == ({""}, {kept.email})


def test_the_users_contract_is_asked_once_per_batch(orders_of, monkeypatch):
    from apps.orders.services import customer_emails

    orders_of(3)
    orders_of(2)
    calls = []
    real = users_service.user_emails

    def counted(*, user_ids):
        calls.append(user_ids)
        return real(user_ids=user_ids)

    monkeypatch.setattr(customer_emails.users_service, "user_emails", counted)

    run(batch_size=2)

    assert len(calls) == 3  # five orders, two per batch
    assert all(len(set(ids)) == len(ids) <= 2 for ids in calls)
