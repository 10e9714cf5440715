"""The order admin as order_staff use it: read-only orders whose status moves only through the actions, which
apply the status machine (an illegal move is reported and changes nothing); read-only payments and provider events."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client

from apps.orders.models import Order, OrderStatusChange, Payment, ProviderEvent
from apps.orders.tests.conftest import (
    DECLINED_CARD,
    available,
    payment_confirm,
    payment_for,
    receive,
    rewritten,
    signed,
)
from conftest import DEFAULT_PASSWORD
from ecommerce.contracts.orders import OrderStatus
from ecommerce.roles import Role

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def staff_browser(make_user) -> Client:
    staff = make_user(Role.ORDER_STAFF)
    browser = Client()
    assert browser.login(username=staff.email, password=DEFAULT_PASSWORD)
    browser.staff = staff  # type: ignore[attr-defined]
    return browser


def _run_action(browser: Client, action: str, *orders: Order) -> list[tuple[str, str]]:
    response = browser.post(CHANGELIST, {"action": action, "_selected_action": [str(o.id) for o in orders]})
    assert response.status_code == 302
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


def test_the_order_staff_group_may_view_and_change_orders(db):
    group = Group.objects.get(name="order_staff")

    codenames = set(group.permissions.filter(content_type__app_label="orders").values_list("codename", flat=True))

    assert codenames == {"view_order", "change_order", "view_orderline", "view_orderstatuschange", "view_payment",
                         "view_providerevent"}


def test_order_staff_see_the_list_and_search_it(staff_browser, place_order):
    order = place_order()
    sku = order.lines.get().sku

    listing = staff_browser.get(CHANGELIST)
    by_sku = staff_browser.get(CHANGELIST, {"q": sku})
    by_user = staff_browser.get(CHANGELIST, {"q": str(order.user_id)})
    by_nothing = staff_browser.get(CHANGELIST, {"q": "no-such-order"})
    detail = staff_browser.get(f"{CHANGELIST}{order.id}/change/")

    assert listing.status_code == 200
    assert order.number in listing.content.decode()
    assert order.number in by_sku.content.decode()
    assert order.number in by_user.content.decode()
    assert order.number not in by_nothing.content.decode()
    assert detail.status_code == 200
    assert sku in detail.content.decode()


@pytest.mark.parametrize(("action", "from_status", "to_status"), [
    ("mark_paid", OrderStatus.PENDING, OrderStatus.PAID),
    ("mark_shipped", OrderStatus.PAID, OrderStatus.SHIPPED),
    ("mark_delivered", OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    ("mark_canceled", OrderStatus.PENDING, OrderStatus.CANCELED),
    ("mark_canceled", OrderStatus.PAID, OrderStatus.CANCELED),
])
def test_a_legal_action_moves_the_order(staff_browser, place_order, action, from_status, to_status):
    order = place_order(from_status)

    messages = _run_action(staff_browser, action, order)

    assert Order.objects.get(pk=order.id).status == to_status
    assert [level for level, _ in messages] == ["success"]
    change = OrderStatusChange.objects.filter(order=order).last()
    assert (change.to_status, change.actor_id) == (to_status, staff_browser.staff.id)


@pytest.mark.parametrize(("action", "from_status"), [
    ("mark_paid", OrderStatus.PAID),
    ("mark_shipped", OrderStatus.PENDING),
    ("mark_delivered", OrderStatus.PAID),
    ("mark_canceled", OrderStatus.SHIPPED),
    ("mark_canceled", OrderStatus.DELIVERED),
    ("mark_paid", OrderStatus.CANCELED),
])
def test_an_illegal_action_is_reported_and_changes_nothing(staff_browser, place_order, action, from_status):
    order = place_order(from_status)
    history = OrderStatusChange.objects.count()

    messages = _run_action(staff_browser, action, order)

    assert Order.objects.get(pk=order.id).status == from_status
    assert OrderStatusChange.objects.count() == history
    assert len(messages) == 1
    level, text = messages[0]
    assert level == "error"
    assert order.number in text
    assert "cannot go from" in text


def test_a_mixed_selection_moves_only_the_legal_orders(staff_browser, place_order, make_product):
    product = make_product(stock=10)
    pending = place_order(product=product)
    shipped = place_order(OrderStatus.SHIPPED, product=product)

    messages = _run_action(staff_browser, "mark_canceled", pending, shipped)

    assert Order.objects.get(pk=pending.id).status == "canceled"
    assert Order.objects.get(pk=shipped.id).status == "shipped"
    assert sorted(level for level, _ in messages) == ["error", "success"]
    assert available(product) == 8  # the canceled order's two units came back, the shipped ones left for good


def test_the_change_form_cannot_change_an_order(staff_browser, place_order):
    order = place_order()
    before = Order.objects.values().get(pk=order.id)

    response = staff_browser.post(f"{CHANGELIST}{order.id}/change/", {
        "status": "delivered", "total": "0.00", "user_id": "999", "payment_status": "succeeded",
    })

    assert response.status_code in {200, 302}
    assert Order.objects.values().get(pk=order.id) == before


def test_orders_cannot_be_added_or_deleted_in_the_admin(staff_browser, place_order):
    order = place_order()

    assert staff_browser.get(f"{CHANGELIST}add/").status_code == 403
    assert staff_browser.post(f"{CHANGELIST}{order.id}/delete/", {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.id).exists()


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.CATALOG_STAFF])
def test_others_cannot_reach_orders_in_the_admin(client_for, make_user, place_order, role):
    order = place_order()
    user = make_user(role)
    browser = Client()
    browser.login(username=user.email, password=DEFAULT_PASSWORD)

    listing = browser.get(CHANGELIST)
    action = browser.post(CHANGELIST, {"action": "mark_paid", "_selected_action": [str(order.id)]})

    assert listing.status_code in {302, 403}
    assert action.status_code in {302, 403}
    assert Order.objects.get(pk=order.id).status == "pending"


# --- payments -----------------------------------------------------------------------------------------------------
PAYMENTS = "/admin/orders/payment/"
PROVIDER_EVENTS = "/admin/orders/providerevent/"


def test_an_orders_payments_show_read_only_on_its_page_without_the_client_secret(staff_browser, place_order):
    order = place_order()
    payment = payment_for(order)
    receive(*signed(payment_confirm(payment, DECLINED_CARD)))

    page = staff_browser.get(f"{CHANGELIST}{order.id}/change/").content.decode()

    assert payment.provider_payment_id in page
    assert "Your card was declined." in page
    assert payment.client_secret not in page


def test_payments_have_a_read_only_list_of_their_own(staff_browser, place_order):
    order = place_order(OrderStatus.PAID)
    payment = Payment.objects.get(order=order)
    before = Payment.objects.values().get(pk=payment.pk)

    listing = staff_browser.get(PAYMENTS, {"q": order.number})
    detail = staff_browser.get(f"{PAYMENTS}{payment.pk}/change/")
    edit = staff_browser.post(f"{PAYMENTS}{payment.pk}/change/", {"status": "refunded", "amount": "0.00"})

    assert listing.status_code == 200
    assert str(payment.pk) in listing.content.decode()
    assert detail.status_code == 200
    assert "manual" in detail.content.decode()
    assert edit.status_code == 403
    assert staff_browser.get(f"{PAYMENTS}add/").status_code == 403
    assert staff_browser.post(f"{PAYMENTS}{payment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Payment.objects.values().get(pk=payment.pk) == before


def test_refused_provider_events_are_kept_for_staff(staff_browser, place_order):
    payment = payment_for(place_order())
    receive(*signed(rewritten(payment_confirm(payment), amount=1)))

    listing = staff_browser.get(PROVIDER_EVENTS, {"outcome__exact": "rejected"}).content.decode()

    assert ProviderEvent.objects.get().outcome == "rejected"
    assert "The event says 0.01 USD; the payment is 25.00 USD." in listing
