"""The contract mechanism: the same call means the same thing in-process and through the signed wire."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.test import Client

from ecommerce.errors import InsufficientStock, NotFound, RemoteServiceError
from ecommerce.rpc import signing
from ecommerce.rpc.client import RemoteService
from ecommerce.rpc.service import contract_methods
from ecommerce.rpc.transport import INTERNAL_URLCONF, rpc_path
from tests.rpc_fixtures import LocalQuoteService, Quote, QuoteChanges, QuoteService, quote_service


def test_a_contract_call_returns_the_same_dto_in_both_modes(rpc_mode: str) -> None:
    quote = quote_service.quote_get(sku="abc", quantity=2)

    assert quote == Quote(sku="abc", amount=Decimal("39.98"), tags=["a", "b"])
    assert isinstance(quote.amount, Decimal)


def test_the_loopback_mode_really_uses_the_remote_implementation(settings) -> None:
    settings.ECOMMERCE_RPC_LOOPBACK = True
    assert isinstance(quote_service._resolve(), RemoteService)
    settings.ECOMMERCE_RPC_LOOPBACK = False
    assert isinstance(quote_service._resolve(), LocalQuoteService)


def test_typed_errors_are_reraised_with_their_data_in_both_modes(rpc_mode: str) -> None:
    with pytest.raises(NotFound, match="No such quote"):
        quote_service.quote_get(sku="missing")
    with pytest.raises(InsufficientStock) as raised:
        quote_service.quote_get(sku="abc", quantity=5)
    assert raised.value.extra["lines"] == [{"product_id": 1, "requested": 5, "available": 3}]


def test_partial_updates_keep_only_the_fields_that_were_set(rpc_mode: str) -> None:
    assert quote_service.quote_fields_set(changes=QuoteChanges(note=None)) == ["note"]
    assert quote_service.quote_fields_set(changes=QuoteChanges()) == []


def test_an_unexpected_failure_crosses_the_wire_without_its_details(settings) -> None:
    settings.ECOMMERCE_RPC_LOOPBACK = True

    with pytest.raises(RemoteServiceError) as raised:
        quote_service.quote_explode()

    assert "hunter2" not in str(raised.value)


def test_contract_arguments_must_be_keyword_only_and_typed() -> None:
    specs = contract_methods(QuoteService)

    assert set(specs) == {"quote_get", "quote_fields_set", "quote_explode"}
    assert specs["quote_get"].idempotent is True
    assert specs["quote_fields_set"].idempotent is False


def _signed_post(client: Client, path: str, body: bytes, **header_overrides: str):
    headers = {**signing.sign("POST", path, body), **header_overrides}
    return client.post(path, data=body, content_type="application/json", headers=headers)


@pytest.mark.urls(INTERNAL_URLCONF)  # the endpoint as a domain role serves it
def test_the_internal_endpoint_answers_a_correctly_signed_call(db) -> None:
    path = rpc_path("quotes", "quote_get")
    response = _signed_post(Client(), path, json.dumps({"sku": "x"}).encode())

    assert response.status_code == 200
    assert response.json() == {"result": {"sku": "x", "amount": "19.99", "tags": ["a", "b"]}}


@pytest.mark.urls(INTERNAL_URLCONF)  # the endpoint as a domain role serves it
def test_the_internal_endpoint_refuses_unsigned_forged_and_replayed_calls(db) -> None:
    client = Client()
    path = rpc_path("quotes", "quote_get")
    body = json.dumps({"sku": "x"}).encode()

    unsigned = client.post(path, data=body, content_type="application/json")
    forged = _signed_post(client, path, body, **{signing.SIGNATURE_HEADER: "0" * 64})
    headers = signing.sign("POST", path, body)
    first = client.post(path, data=body, content_type="application/json", headers=headers)
    replayed = client.post(path, data=body, content_type="application/json", headers=headers)
    tampered_headers = signing.sign("POST", path, body)
    tampered = client.post(path, data=json.dumps({"sku": "y"}), content_type="application/json",
                           headers=tampered_headers)

    assert unsigned.status_code == 401
    assert forged.status_code == 401
    assert first.status_code == 200
    assert replayed.status_code == 401
    assert tampered.status_code == 401


@pytest.mark.urls(INTERNAL_URLCONF)  # the endpoint as a domain role serves it
def test_old_timestamps_are_refused(db, monkeypatch) -> None:
    path = rpc_path("quotes", "quote_get")
    body = b'{"sku":"x"}'
    monkeypatch.setattr(time, "time", lambda: 1_000_000.0)
    old_headers = signing.sign("POST", path, body)
    monkeypatch.undo()

    response = Client().post(path, data=body, content_type="application/json", headers=old_headers)

    assert response.status_code == 401


@pytest.mark.urls(INTERNAL_URLCONF)  # the endpoint as a domain role serves it
def test_a_rotated_secret_is_still_accepted_while_listed(db, settings) -> None:
    path = rpc_path("quotes", "quote_get")
    body = b'{"sku":"x"}'
    old_secret, new_secret = "old-secret-" * 4, "new-secret-" * 4
    settings.INTERNAL_AUTH_TOKEN = old_secret
    first_headers, second_headers = signing.sign("POST", path, body), signing.sign("POST", path, body)
    settings.INTERNAL_AUTH_TOKEN = new_secret

    settings.INTERNAL_AUTH_TOKENS_ACCEPTED = []
    refused = Client().post(path, data=body, content_type="application/json", headers=first_headers)
    settings.INTERNAL_AUTH_TOKENS_ACCEPTED = [old_secret]
    accepted = Client().post(path, data=body, content_type="application/json", headers=second_headers)

    assert refused.status_code == 401
    assert accepted.status_code == 200


@pytest.mark.urls(INTERNAL_URLCONF)  # the endpoint as a domain role serves it
def test_bad_arguments_and_unknown_methods_are_client_errors(db) -> None:
    client = Client()
    bad = _signed_post(client, rpc_path("quotes", "quote_get"), b'{"sku": 5, "extra": 1}')
    unknown = _signed_post(client, rpc_path("quotes", "no_such_method"), b"{}")
    unknown_service = _signed_post(client, rpc_path("nobody", "quote_get"), b"{}")

    assert bad.status_code == 400
    assert unknown.status_code == 404
    assert unknown_service.status_code == 404
