"""CSV import and export of products (django-import-export).

An import is first run as a dry run whose preview shows, row by row, what would be created or changed and every
row's errors; only a file without errors can then be confirmed. Each row is checked by the same rules as the API
(``clean_product``) and written through the products services, so slugs, unique races, audit rows and cache
invalidation are the API's. Rows are matched to products by sku. Categories are named by slug. The ``stock`` column
exports what is available; on import it is the initial stock of a new product and is ignored for an existing one,
whose stock moves only through adjustments.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from apps.products import services as product_services
from apps.products.models import Category, Product, StockAdjustmentSource
from apps.products.services.products import clean_product, product_values
from apps.products.services.validation import MAX_STOCK
from ecommerce.contracts.products import ProductChanges, ProductInput, StockActor
from ecommerce.errors import ValidationFailed


class MoneyWidget(widgets.Widget):
    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Decimal | None:
        if value is None or str(value).strip() == "":
            return None
        try:
            return Decimal(str(value).strip())
        except InvalidOperation as error:
            raise ValueError(f"“{value}” is not a number.") from error

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class StockWidget(widgets.Widget):
    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int | None:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if not text.isdigit() or int(text) > MAX_STOCK:
            raise ValueError(f"“{value}” is not a whole number between 0 and {MAX_STOCK}.")
        return int(text)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class CategorySlugWidget(widgets.ForeignKeyWidget):
    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Category | None:
        try:
            return super().clean(value, row, **kwargs)
        except Category.DoesNotExist as error:
            raise ValueError(f"No category has the slug “{value}”.") from error


class ProductResource(resources.ModelResource):
    category = fields.Field(attribute="category", column_name="category",
                            widget=CategorySlugWidget(Category, field="slug"))
    price = fields.Field(attribute="price", column_name="price", widget=MoneyWidget())
    discount_value = fields.Field(attribute="discount_value", column_name="discount_value", widget=MoneyWidget(),
                                  saves_null_values=False)
    discount_type = fields.Field(attribute="discount_type", column_name="discount_type", saves_null_values=False)
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget(),
                             saves_null_values=False)
    stock = fields.Field(attribute="stock", column_name="stock", widget=StockWidget())

    class Meta:
        model = Product
        fields = ("sku", "name", "slug", "category", "price", "discount_type", "discount_value",
                  "discount_starts_at", "discount_ends_at", "short_description", "description", "image_url",
                  "is_active", "stock")
        import_id_fields = ("sku",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # the products services' rules, below, instead of the model's

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor: StockActor | None = None

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        user = kwargs.get("user")
        if user is not None and user.is_authenticated:
            self.actor = StockActor(id=user.pk, email=getattr(user, "email", "") or "")

    def dehydrate_stock(self, product: Product) -> int:
        return product.stock_available

    def validate_instance(self, instance: Product, import_validation_errors: dict | None = None,
                          validate_unique: bool = True) -> None:
        errors: dict[str, Any] = dict(import_validation_errors or {})
        values = product_values(instance)
        values["category"] = instance.category_id
        product_errors, _ = clean_product(values, product_id=instance.pk)
        for field, messages in product_errors.items():
            errors.setdefault(field, messages)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance: Product, is_create: bool) -> None:
        values = product_values(instance)
        try:
            if is_create:
                created = product_services.product_create(
                    product=ProductInput(**values, stock=getattr(instance, "stock", None) or 0),
                    actor=self.actor, source=StockAdjustmentSource.IMPORT)
                instance.pk, instance.slug = created.pk, created.slug
            else:
                if not values["slug"]:
                    del values["slug"]  # an empty cell keeps the product's slug (and its links)
                product_services.product_update(product_id=instance.pk, changes=ProductChanges(**values))
        except ValidationFailed as error:
            raise ValidationError(error.errors or error.detail) from error
