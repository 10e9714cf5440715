"""A checkout answers before its follow-ups run: they wait for the response to be closed (``ecommerce.after_response``),
and the durable flag covers a process that dies in between."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone

from apps.orders import services
from apps.orders.models import Order
from apps.orders.tests.conftest import available, checkout, fill_cart
from ecommerce.after_response import after_response

pytestmark = pytest.mark.django_db


def _request_started() -> None:
    # As Django's test client does: the test's connection (and its transaction) outlives the simulated request.
    request_started.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
    finally:
        request_started.connect(close_old_connections)


def _request_finished() -> None:
    request_finished.disconnect(close_old_connections)
    try:
        request_finished.send(sender=None)
    finally:
        request_finished.connect(close_old_connections)


def _followup_pending(order_id) -> bool:
    """Cleared only once the catalog's reservation is confirmed and the cart's claim completed."""
    return Order.objects.get(pk=order_id).followup_pending


def test_outside_a_request_the_work_runs_at_once():
    done = []

    after_response(lambda: done.append("work"))

    assert done == ["work"]


def test_inside_a_request_the_work_waits_for_the_response_to_close_and_a_failure_stays_in_the_log(caplog):
    # given a request being served
    done = []
    _request_started()

    # when it queues two pieces of work, the first failing
    def failing() -> None:
        raise RuntimeError("boom")

    after_response(failing)
    after_response(lambda: done.append("second"))

    # then nothing ran before the response was closed, and closing it ran both without raising
    assert done == []
    with caplog.at_level(logging.ERROR, logger="ecommerce.after_response"):
        _request_finished()
    assert done == ["second"]
    assert "work after the response failed" in caplog.text
    after_response(lambda: done.append("later"))  # the next work outside a request runs at once
    assert done == ["second", "later"]


def test_a_checkout_answers_before_its_follow_ups_which_run_when_the_response_closes(shopper, make_product):
    # given a request checking out a cart
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    _request_started()

    # when the checkout has answered
    outcome = checkout(user, address)

    # then the order is durable and flagged as owing its follow-ups, its stock already held
    assert _followup_pending(outcome.order.id) is True
    assert available(product) == 3

    # and once the response is closed the follow-ups are done
    _request_finished()
    assert _followup_pending(outcome.order.id) is False
    assert available(product) == 3


def test_follow_ups_lost_with_their_process_after_the_answer_are_redone_by_the_sweep(shopper, make_product):
    # given a checkout answered inside a request whose process died before closing the response
    user, address = shopper
    product = make_product(stock=5)
    fill_cart(user.id, (product, 2))
    _request_started()
    outcome = checkout(user, address)
    _request_started()  # the queue is gone: the next request starts with an empty one
    _request_finished()
    assert _followup_pending(outcome.order.id) is True

    # when the follow-up sweep comes by
    services.orders_followups_resume(now=timezone.now() + timedelta(minutes=1))

    # then the work is done
    assert _followup_pending(outcome.order.id) is False
    assert available(product) == 3
