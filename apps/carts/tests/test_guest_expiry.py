"""Guest carts expire: unchanged for ECOMMERCE_GUEST_CART_TTL_HOURS, their token answers NotFound at once, and the
periodic job (scheduled in beat and in the in-process scheduler alike) deletes them; users' carts are never
touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.carts import services, tasks
from apps.carts.models import Cart
from apps.carts.tests.conftest import USER
from ecommerce.errors import NotFound
from ecommerce.events.scheduler import jobs_for_this_process

pytestmark = pytest.mark.django_db


def age(token: str, hours: int) -> None:
    Cart.objects.filter(guest_token_hash=services.owners.guest_token_hash(token)).update(
        updated_at=timezone.now() - timedelta(hours=hours))


def test_an_expired_guest_cart_is_not_found_before_it_is_purged(settings):
    settings.ECOMMERCE_GUEST_CART_TTL_HOURS = 2
    token = services.guest_cart_create()
    services.cart_item_add(guest_token=token, product_id=5, quantity=1, available=3)
    age(token, 3)

    with pytest.raises(NotFound):
        services.cart_get_or_create(guest_token=token)
    with pytest.raises(NotFound):
        services.cart_item_add(guest_token=token, product_id=5, quantity=1, available=3)


def test_the_purge_deletes_expired_guest_carts_only(settings):
    # given an expired guest cart with a line, a fresh one, and an old user cart
    settings.ECOMMERCE_GUEST_CART_TTL_HOURS = 2
    expired, fresh = services.guest_cart_create(), services.guest_cart_create()
    services.cart_item_add(guest_token=expired, product_id=5, quantity=1, available=3)
    age(expired, 3)
    services.cart_item_add(user_id=USER, product_id=5, quantity=1, available=3)
    Cart.objects.filter(user_id=USER).update(updated_at=timezone.now() - timedelta(days=365))

    # when the periodic job runs
    purged = tasks.purge_expired_guest_carts()

    # then only the expired guest cart is gone
    assert purged == 1
    assert services.cart_get_or_create(guest_token=fresh).pk
    assert Cart.objects.filter(user_id=USER).exists()
    assert Cart.objects.count() == 2


def test_the_purge_is_scheduled_for_beat_and_the_in_process_scheduler():
    entry = settings.CELERY_BEAT_SCHEDULE["carts-purge-expired-guest-carts"]

    assert entry["task"] == tasks.purge_expired_guest_carts.name
    assert any(job.task == entry["task"] for job in jobs_for_this_process())
