"""The rules that make the split possible, checked on the code itself."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from ecommerce.rpc.service import Service, contract_methods

ROOT = Path(__file__).resolve().parent.parent
BOUNDED_CONTEXTS = {"users", "products", "carts", "orders"}
# Apps nested in a context's package, by label: their tables belong to that context (the sandbox card processor is the
# orders context's stand-in for a real processor and, like one, points at none of the shop's tables).
NESTED_APPS = {"sandbox_processor": "orders"}
# Tables a context may point at besides its own: Django's auth/contenttypes machinery lives with the users context.
FRAMEWORK_APPS = {"auth", "contenttypes", "admin", "sessions", "token_blacklist"}


def _owner(model: type[models.Model]) -> str:
    return model._meta.app_label


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_no_foreign_key_crosses_a_bounded_context() -> None:
    crossings = []
    for model in apps.get_models():
        owner = _owner(model)
        if owner not in BOUNDED_CONTEXTS:
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.related_model is not None and not field.auto_created:
                target = _owner(field.related_model)
                allowed = {owner} | (FRAMEWORK_APPS if owner == "users" else set())
                if target not in allowed:
                    crossings.append(f"{model.__name__}.{field.name} -> {target}")

    assert crossings == []


# django-axes registers its attempt-log models; admin sign-ins are counted in the shared cache, so they stay empty.
THIRD_PARTY_APPS = {"axes"}


def test_every_model_belongs_to_exactly_one_known_app() -> None:
    allowed = BOUNDED_CONTEXTS | set(NESTED_APPS) | FRAMEWORK_APPS | THIRD_PARTY_APPS | {"events"}
    strays = [f"{m.__module__}.{m.__name__}" for m in apps.get_models() if _owner(m) not in allowed]

    assert strays == []
    for model in apps.get_models():
        if _owner(model) in BOUNDED_CONTEXTS:
            assert model.__module__.startswith(f"apps.{_owner(model)}."), model
        if _owner(model) in NESTED_APPS:
            assert model.__module__.startswith(f"apps.{NESTED_APPS[_owner(model)]}.{_owner(model)}."), model


def test_the_sandbox_processor_points_at_no_table_of_the_shop() -> None:
    relations = [
        (model.__name__, field.name, _owner(field.related_model))
        for model in apps.get_app_config("sandbox_processor").get_models()
        for field in model._meta.get_fields() if field.is_relation and field.related_model is not None
    ]

    assert relations
    assert {target for _, _, target in relations} == {"sandbox_processor"}, relations


def test_the_gateway_owns_no_tables() -> None:
    assert list(apps.get_app_config("gateway").get_models()) == []


def _contracts() -> list[type[Service]]:
    from ecommerce.contracts import carts, orders, products, users

    return [users.UsersService, products.ProductsService, carts.CartsService, orders.OrdersService]


@pytest.mark.parametrize("contract", _contracts(), ids=lambda c: c.__name__)
def test_every_contract_method_is_keyword_only_typed_and_implemented(contract: type[Service]) -> None:
    from django.utils.module_loading import import_string

    implementation = import_string(contract.local_implementation)
    assert issubclass(implementation, contract)
    assert not getattr(implementation, "__abstractmethods__", None), "every contract method must be implemented"
    for name, spec in contract_methods(contract).items():
        assert spec.result_adapter is not None, name
        parameters = list(inspect.signature(getattr(contract, name)).parameters.values())[1:]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters), name


def test_every_event_consumer_is_owned_by_one_role_and_names_a_handler_of_that_roles_app() -> None:
    from django.utils.module_loading import import_string

    from config.roles import DOMAIN_ROLES
    from ecommerce.events.outbox import EVENT_TYPES
    from ecommerce.events.subscriptions import SUBSCRIPTIONS

    names = [subscription.consumer for subscription in SUBSCRIPTIONS]
    assert len(names) == len(set(names))
    for subscription in SUBSCRIPTIONS:
        assert subscription.role in DOMAIN_ROLES, subscription
        assert subscription.consumer.startswith(f"{subscription.role}."), subscription
        assert subscription.handler_path.startswith(f"apps.{subscription.role}."), subscription
        assert callable(import_string(subscription.handler_path)), subscription
        assert subscription.event_types, subscription
        assert set(subscription.event_types) <= EVENT_TYPES, subscription


def test_every_published_event_type_has_a_consumer_in_the_shop() -> None:
    # Mandatory publishing keeps an event no queue takes pending; a type nobody consumes would wait for ever.
    from ecommerce.events.outbox import EVENT_TYPES
    from ecommerce.events.subscriptions import subscribers_of

    assert sorted(event_type for event_type in EVENT_TYPES if not subscribers_of(event_type)) == []
