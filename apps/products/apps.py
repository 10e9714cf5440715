from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ProductsConfig(AppConfig):
    name = "apps.products"
    label = "products"

    def ready(self) -> None:
        from apps.products.invalidation import on_catalog_row_saved_or_deleted
        from apps.products.metrics import OutOfStockCollector
        from apps.products.models import Category, Product
        from ecommerce.metrics import register_scrape_collector

        register_scrape_collector(OutOfStockCollector())

        for model in (Product, Category):
            post_save.connect(on_catalog_row_saved_or_deleted, sender=model,
                              dispatch_uid=f"products-invalidate-{model.__name__}-save")
            post_delete.connect(on_catalog_row_saved_or_deleted, sender=model,
                                dispatch_uid=f"products-invalidate-{model.__name__}-delete")
