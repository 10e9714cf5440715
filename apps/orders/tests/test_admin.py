"""The order admin as order_staff use it: read-only orders (no Save anywhere) whose status moves only through the
actions the status machine allows from where the order stands, each asking first, running the orders services and
writing the admin's history; a forced illegal one is explained and changes nothing. Read-only payments and provider
events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from apps.orders import services
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
from ecommerce.events.models import OutboxEvent
from ecommerce.roles import Role

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def staff_browser(make_user) -> Client:
    staff = make_user(Role.ORDER_STAFF)
    browser = Client()
    assert browser.login(username=staff.email, password=DEFAULT_PASSWORD)
    browser.staff = staff  # type: ignore[attr-defined]
    return browser


def _ship_in_bulk(browser: Client, orders: list[Order], **data: str):
    return browser.post(CHANGELIST, {"action": "mark_shipped", "_selected_action": [str(o.id) for o in orders],
                                     **data})


def _messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


def _page(order: Order) -> str:
    return f"{CHANGELIST}{order.id}/change/"


def test_the_order_staff_group_may_view_and_change_orders(db):
    group = Group.objects.get(name="order_staff")

    codenames = set(group.permissions.filter(content_type__app_label="orders").values_list("codename", flat=True))

    assert codenames == {"view_order", "change_order", "view_orderline", "view_orderstatuschange", "view_payment",
                         "view_providerevent"}


def test_order_staff_see_the_list_and_search_it(staff_browser, shopper, place_order):
    order = place_order()
    sku = order.lines.get().sku
    customer, _ = shopper

    listing = staff_browser.get(CHANGELIST)
    by_sku = staff_browser.get(CHANGELIST, {"q": sku})
    by_user = staff_browser.get(CHANGELIST, {"q": str(order.user_id)})
    by_email = staff_browser.get(CHANGELIST, {"q": customer.email.upper()})
    by_nothing = staff_browser.get(CHANGELIST, {"q": "no-such-order"})
    detail = staff_browser.get(_page(order))

    assert order.customer_email == customer.email
    assert listing.status_code == 200
    assert order.number in listing.content.decode()
    assert customer.email in listing.content.decode()
    assert order.number in by_sku.content.decode()
    assert order.number in by_user.content.decode()
    assert order.number in by_email.content.decode()
    assert order.number not in by_nothing.content.decode()
    assert detail.status_code == 200
    assert sku in detail.content.decode()


def test_the_list_filters_by_status_and_by_a_date_range(staff_browser, place_order):
    old = place_order()
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    recent = place_order(OrderStatus.PAID)
    today = timezone.now().date()

    paid = staff_browser.get(CHANGELIST, {"status__exact": "paid"}).content.decode()
    last_month = staff_browser.get(CHANGELIST, {"created_at__date__gte": str(today - timedelta(days=30)),
                                                "created_at__date__lte": str(today)}).content.decode()
    before = staff_browser.get(CHANGELIST, {"created_at__date__lte": str(today - timedelta(days=30))}).content.decode()
    garbage = staff_browser.get(CHANGELIST, {"created_at__date__gte": "not-a-date"})

    assert recent.number in paid
    assert old.number not in paid
    assert recent.number in last_month
    assert old.number not in last_month
    assert old.number in before
    assert recent.number not in before
    assert garbage.status_code == 302  # the admin's own "invalid filter" answer, back to the whole list
    assert "?e=1" in garbage["Location"]


def test_the_order_page_offers_only_the_actions_its_status_allows_and_no_save(staff_browser, place_order):
    pages = {status: staff_browser.get(_page(place_order(status))).content.decode() for status in OrderStatus}

    def offered(page: str) -> set[str]:
        return {slug for slug in ("record-payment", "ship", "deliver", "cancel") if f'data-action="{slug}"' in page}

    assert offered(pages[OrderStatus.PENDING]) == {"record-payment", "cancel"}
    assert offered(pages[OrderStatus.PAID]) == {"ship", "cancel"}
    assert offered(pages[OrderStatus.SHIPPED]) == {"deliver"}
    assert offered(pages[OrderStatus.DELIVERED]) == set()
    assert offered(pages[OrderStatus.CANCELED]) == set()
    assert all('name="_save"' not in page and 'name="_continue"' not in page for page in pages.values())


def test_shipping_asks_for_carrier_and_tracking_then_ships_with_them(staff_browser, place_order):
    order = place_order(OrderStatus.PAID)
    ship = f"{_page(order).removesuffix('change/')}ship/"

    asked = staff_browser.get(ship)
    incomplete = staff_browser.post(ship, {"carrier": "UPS", "tracking_number": "  "})
    done = staff_browser.post(ship, {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})

    assert asked.status_code == 200
    assert 'name="tracking_number"' in asked.content.decode()
    assert incomplete.status_code == 200
    assert "This field is required." in incomplete.content.decode()
    assert done.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.shipping_carrier, order.tracking_number) == ("shipped", "UPS", "1Z999AA10123456784")
    change = OrderStatusChange.objects.filter(order=order).last()
    assert (change.to_status, change.actor_id) == ("shipped", staff_browser.staff.id)
    assert "UPS" in change.reason
    event = OutboxEvent.objects.filter(type="order.shipped").latest("occurred_at")
    assert (event.data["carrier"], event.data["tracking_number"]) == ("UPS", "1Z999AA10123456784")
    logged = LogEntry.objects.get(object_id=str(order.pk))
    assert (logged.user_id, logged.action_flag) == (staff_browser.staff.id, CHANGE)
    assert "1Z999AA10123456784" in logged.get_change_message()
    assert "1Z999AA10123456784" in staff_browser.get(f"{CHANGELIST}{order.pk}/history/").content.decode()


@pytest.mark.parametrize(("slug", "from_status", "to_status"), [
    ("record-payment", OrderStatus.PENDING, OrderStatus.PAID),
    ("deliver", OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    ("cancel", OrderStatus.PENDING, OrderStatus.CANCELED),
])
def test_an_action_asks_first_then_moves_the_order(staff_browser, place_order, slug, from_status, to_status):
    order = place_order(from_status)
    url = f"{_page(order).removesuffix('change/')}{slug}/"

    asked = staff_browser.get(url)
    status_after_asking = Order.objects.get(pk=order.id).status
    done = staff_browser.post(url, {"reason": "customer called to cancel"})

    assert asked.status_code == 200
    assert status_after_asking == from_status
    assert done.status_code == 302
    assert [level for level, _ in _messages(done)] == ["success"]
    assert Order.objects.get(pk=order.id).status == to_status
    assert LogEntry.objects.filter(object_id=str(order.pk), user_id=staff_browser.staff.id).count() == 1


def test_cancel_needs_a_reason_refunds_the_payment_and_returns_the_stock(staff_browser, place_order, make_product):
    product = make_product(stock=10)
    order = place_order(OrderStatus.PAID, product=product)
    cancel = f"{_page(order).removesuffix('change/')}cancel/"

    asked = staff_browser.get(cancel).content.decode()
    without_reason = staff_browser.post(cancel, {"reason": ""})
    done = staff_browser.post(cancel, {"reason": "out of stock at the supplier"})

    assert "will be refunded" in asked
    assert without_reason.status_code == 200
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == "canceled"
    assert order.payment_status == "refunded"
    assert OrderStatusChange.objects.filter(order=order).last().reason == "out of stock at the supplier"
    assert available(product) == 10


@pytest.mark.parametrize(("slug", "from_status"), [
    ("record-payment", OrderStatus.PAID),
    ("ship", OrderStatus.PENDING),
    ("deliver", OrderStatus.PAID),
    ("cancel", OrderStatus.SHIPPED),
    ("cancel", OrderStatus.DELIVERED),
    ("ship", OrderStatus.CANCELED),
])
def test_a_forced_illegal_action_is_explained_and_changes_nothing(staff_browser, place_order, slug, from_status):
    order = place_order(from_status)
    history = OrderStatusChange.objects.count()
    url = f"{_page(order).removesuffix('change/')}{slug}/"

    shown = staff_browser.get(url)
    forced = staff_browser.post(url, {"carrier": "UPS", "tracking_number": "1Z", "reason": "because"})

    assert (shown.status_code, forced.status_code) == (302, 302)
    assert forced["Location"] == _page(order)
    assert Order.objects.get(pk=order.id).status == from_status
    assert OrderStatusChange.objects.count() == history
    messages = _messages(forced)  # one for the page refused, one for the post
    assert len(messages) == 2
    for level, text in messages:
        assert level == "error"
        assert order.number in text
        assert "Nothing was changed" in text


def test_a_race_lost_between_page_and_click_is_reported_not_a_server_error(staff_browser, place_order, monkeypatch):
    order = place_order(OrderStatus.PAID)
    url = f"{_page(order).removesuffix('change/')}ship/"
    # Another member of staff cancels the order after this page was allowed to ship it.
    real_ship = services.order_ship

    def ship_after_someone_canceled(**arguments):
        services.order_cancel(order_id=order.id, user_id=None, actor_id=None, reason="canceled elsewhere")
        return real_ship(**arguments)

    monkeypatch.setattr(services, "order_ship", ship_after_someone_canceled)

    response = staff_browser.post(url, {"carrier": "UPS", "tracking_number": "1Z"})

    assert response.status_code == 302
    [(level, text)] = _messages(response)
    assert level == "error"
    assert "cannot go from" in text
    assert Order.objects.get(pk=order.id).status == "canceled"
    assert not LogEntry.objects.filter(object_id=str(order.pk)).exists()


def test_bulk_shipping_asks_for_tracking_numbers_then_ships_only_paid_orders(staff_browser, place_order,
                                                                            make_product):
    product = make_product(stock=10)
    first, second = place_order(OrderStatus.PAID, product=product), place_order(OrderStatus.PAID, product=product)
    pending = place_order(product=product)

    asked = _ship_in_bulk(staff_browser, [first, second, pending])
    missing_tracking = _ship_in_bulk(staff_browser, [first, second, pending], apply="1", carrier="DHL",
                                     **{f"tracking_{first.id}": "JD1"})
    statuses_after_asking = set(Order.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
    done = _ship_in_bulk(staff_browser, [first, second, pending], apply="1", carrier="DHL",
                         **{f"tracking_{first.id}": "JD1", f"tracking_{second.id}": "JD2"})

    page = asked.content.decode()
    assert asked.status_code == 200
    assert f"tracking_{first.id}" in page
    assert f"tracking_{second.id}" in page
    assert f"tracking_{pending.id}" not in page
    assert pending.number in page  # named, left alone
    assert missing_tracking.status_code == 200
    assert statuses_after_asking == {"paid"}
    assert done.status_code == 302
    assert [(o.status, o.tracking_number) for o in Order.objects.filter(pk__in=[first.pk, second.pk])
            .order_by("created_at")] == [("shipped", "JD1"), ("shipped", "JD2")]
    assert Order.objects.get(pk=pending.pk).status == "pending"
    assert LogEntry.objects.filter(user_id=staff_browser.staff.id, action_flag=CHANGE).count() == 2


def test_bulk_shipping_with_nothing_shippable_says_so(staff_browser, place_order):
    pending = place_order()

    response = _ship_in_bulk(staff_browser, [pending])

    assert response.status_code == 302
    assert [level for level, _ in _messages(response)] == ["error"]
    assert Order.objects.get(pk=pending.pk).status == "pending"


def test_the_history_names_actors_by_e_mail(staff_browser, shopper, place_order):
    order = place_order(OrderStatus.PAID)
    customer, _ = shopper
    staff_browser.post(f"{_page(order).removesuffix('change/')}cancel/", {"reason": "asked by phone"})

    page = staff_browser.get(_page(order)).content.decode()

    assert f"{customer.email} (customer)" in page  # who checked out
    assert staff_browser.staff.email in page  # who canceled
    assert "the shop (automatic)" in page  # the payment recorded without an actor


def test_the_order_page_cannot_be_saved(staff_browser, place_order, admin_user):
    order = place_order()
    before = Order.objects.values().get(pk=order.id)
    superuser = Client()
    superuser.force_login(admin_user)

    for browser in (staff_browser, superuser):
        response = browser.post(_page(order), {
            "status": "delivered", "total": "0.00", "user_id": "999", "payment_status": "succeeded",
            "_continue": "Save and continue editing"})
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
    assert Order.objects.values().get(pk=order.id) == before


def test_orders_cannot_be_added_or_deleted_in_the_admin(staff_browser, place_order):
    order = place_order()

    assert staff_browser.get(f"{CHANGELIST}add/").status_code == 403
    assert staff_browser.post(f"{CHANGELIST}{order.id}/delete/", {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.id).exists()


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.CATALOG_STAFF])
def test_others_cannot_reach_orders_in_the_admin(make_user, place_order, role):
    order = place_order(OrderStatus.PAID)
    user = make_user(role)
    browser = Client()
    browser.login(username=user.email, password=DEFAULT_PASSWORD)

    listing = browser.get(CHANGELIST)
    ship = browser.post(f"{CHANGELIST}{order.id}/ship/", {"carrier": "UPS", "tracking_number": "1Z"})
    bulk = _ship_in_bulk(browser, [order], apply="1", carrier="UPS", **{f"tracking_{order.id}": "1Z"})

    assert listing.status_code in {302, 403}
    assert ship.status_code in {302, 403}
    assert bulk.status_code in {302, 403}
    assert Order.objects.get(pk=order.id).status == "paid"


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
