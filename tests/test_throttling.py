"""The counting throttle: a fixed cost per request, refused requests are not counted, and Retry-After is honest:
a client that waits that long is let through."""

from __future__ import annotations

import pytest

from ecommerce import throttling


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.django_db
def test_a_client_that_waits_for_retry_after_is_let_through(api_client, settings, monkeypatch):
    # given a limit of three requests a minute, reached at the start of a window
    settings.ECOMMERCE_THROTTLE_ANON = "3/min"
    clock = Clock(600_000.0)
    monkeypatch.setattr(throttling.time, "time", clock)
    assert [api_client.get("/api/v1/categories").status_code for _ in range(3)] == [200, 200, 200]

    # when it keeps asking, it is refused, and the refusals do not count against it
    refused = [api_client.get("/api/v1/categories") for _ in range(5)]
    assert {response.status_code for response in refused} == {429}
    retry_after = int(refused[-1]["Retry-After"])
    assert 1 <= retry_after <= 120

    # then a second less than it was told is not enough, and waiting as long as it was told is
    clock.now += retry_after - 1
    assert api_client.get("/api/v1/categories").status_code == 429
    clock.now += 1
    assert api_client.get("/api/v1/categories").status_code == 200


@pytest.mark.django_db
def test_requests_of_the_previous_window_count_while_they_are_within_the_period(api_client, settings, monkeypatch):
    settings.ECOMMERCE_THROTTLE_ANON = "4/min"
    clock = Clock(600_030.0)  # halfway through a window
    monkeypatch.setattr(throttling.time, "time", clock)
    assert [api_client.get("/api/v1/categories").status_code for _ in range(4)] == [200] * 4
    # early in the next window, most of those four still lie within the last minute
    clock.now = 600_065.0
    assert api_client.get("/api/v1/categories").status_code == 429


@pytest.mark.django_db
def test_a_signed_in_callers_requests_refused_for_their_role_do_not_count_against_them(customer_client, settings,
                                                                                       monkeypatch):
    # given a customer allowed three requests a minute
    settings.ECOMMERCE_THROTTLE_USER = "3/min"
    monkeypatch.setattr(throttling.time, "time", Clock(600_000.0))
    # when they try a staff-only write again and again
    refused = [customer_client.post("/api/v1/categories", {"name": "Not mine"}, format="json") for _ in range(5)]
    assert {response.status_code for response in refused} == {403}
    # then their allowance is whole: three requests go through, the fourth is throttled
    assert [customer_client.get("/api/v1/cart").status_code for _ in range(4)] == [200, 200, 200, 429]
