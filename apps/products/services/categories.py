"""Writes of categories.

Rules guarded here: the category tree never gets a cycle (a category cannot move under itself or a descendant);
slugs are unique, an auto-made one that loses a race is made again; only an empty category (no products, no
sub-categories) can be deleted, anything else answers ``Conflict``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from apps.products.models import Category, Product
from apps.products.services.validation import (
    Errors,
    add_error,
    optional_text,
    required_text,
    save_guarding_uniques,
    slug_errors,
    unique_slug,
)
from ecommerce.contracts.products import CategoryChanges, CategoryInput
from ecommerce.errors import Conflict, NotFound, ValidationFailed


def _category_parents() -> dict[int, int | None]:
    return dict(Category.objects.values_list("id", "parent_id"))


def category_errors(*, name: Any, slug: str | None, parent_id: int | None, category_id: int | None,
                     description: Any) -> tuple[Errors, dict[str, Any]]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {
        "name": required_text(errors, "name", name, 120),
        "description": optional_text(errors, "description", description, None),
        "parent_id": parent_id,
    }
    if slug:
        slug_errors(errors, slug, model=Category, max_length=140, exclude_pk=category_id)
    if parent_id is not None:
        parents = _category_parents()
        if parent_id not in parents:
            add_error(errors, "parent", "Unknown category.")
        elif category_id is not None:
            # Walk up from the new parent; meeting this category means the change would close a loop.
            ancestor: int | None = parent_id
            seen: set[int] = set()
            while ancestor is not None and ancestor not in seen:
                if ancestor == category_id:
                    add_error(errors, "parent",
                              "A category cannot be placed under itself or one of its sub-categories.")
                    break
                seen.add(ancestor)
                ancestor = parents.get(ancestor)
    return errors, cleaned


def _category_slug_conflicts(category: Category, *, slug_given: bool) -> Callable[[], Errors]:
    def check() -> Errors:
        if slug_given and Category.objects.filter(slug=category.slug).exclude(pk=category.pk).exists():
            return {"slug": ["This slug is already in use."]}
        return {}

    return check


def category_create(*, category: CategoryInput) -> Category:
    errors, cleaned = category_errors(name=category.name, slug=category.slug, parent_id=category.parent,
                                       category_id=None, description=category.description)
    if errors:
        raise ValidationFailed(errors=errors)
    instance = Category(**cleaned)

    def make_slug() -> str:
        return unique_slug(Category, instance.name, max_length=140, fallback="category")

    instance.slug = category.slug or make_slug()
    save_guarding_uniques(instance, conflict_errors=_category_slug_conflicts(instance, slug_given=bool(category.slug)),
                          regenerate_slug=None if category.slug else make_slug)
    return instance


def category_update(*, category_id: int, changes: CategoryChanges) -> Category:
    """Partial update: only the fields set on ``changes`` are applied. ``slug=None`` makes a new slug from the name;
    ``parent=None`` moves the category to the top level."""
    instance = Category.objects.filter(pk=category_id).first()
    if instance is None:
        raise NotFound(f"Category {category_id} does not exist.")
    given = changes.model_fields_set
    name = changes.name if "name" in given else instance.name
    slug = changes.slug if "slug" in given else instance.slug
    parent_id = changes.parent if "parent" in given else instance.parent_id
    description = changes.description if "description" in given else instance.description
    errors, cleaned = category_errors(name=name, slug=slug if "slug" in given else None, parent_id=parent_id,
                                       category_id=category_id, description=description)
    if errors:
        raise ValidationFailed(errors=errors)
    for field, value in cleaned.items():
        setattr(instance, field, value)

    def make_slug() -> str:
        return unique_slug(Category, instance.name, max_length=140, fallback="category", exclude_pk=instance.pk)

    slug_generated = "slug" in given and not slug
    instance.slug = make_slug() if slug_generated else slug
    save_guarding_uniques(
        instance, conflict_errors=_category_slug_conflicts(instance, slug_given="slug" in given and bool(slug)),
        regenerate_slug=make_slug if slug_generated else None,
    )
    return instance


def category_delete(*, category_id: int) -> None:
    """Delete an empty category. A category that still holds products, or has sub-categories, answers Conflict:
    silently re-homing products or children would change the catalog in ways staff did not ask for, so they must
    move or delete them first (the foreign keys are PROTECT, so a racing insert cannot slip through either)."""
    instance = Category.objects.filter(pk=category_id).first()
    if instance is None:
        raise NotFound(f"Category {category_id} does not exist.")
    product_count = Product.objects.filter(category_id=category_id).count()
    if product_count:
        raise Conflict(f"Category {category_id} still has {product_count} product(s) (active or not); "
                       "move or delete them before deleting the category.")
    if Category.objects.filter(parent_id=category_id).exists():
        raise Conflict(f"Category {category_id} still has sub-categories; move or delete them first.")
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, IntegrityError) as error:
        raise Conflict(f"Category {category_id} is in use by products or sub-categories; empty it first.") from error
