from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CartsConfig(AppConfig):
    name = "apps.carts"
    label = "carts"

    def ready(self) -> None:
        from apps.carts.invalidation import on_cart_saved_or_deleted
        from apps.carts.models import Cart

        post_save.connect(on_cart_saved_or_deleted, sender=Cart, dispatch_uid="carts-invalidate-cart-save")
        post_delete.connect(on_cart_saved_or_deleted, sender=Cart, dispatch_uid="carts-invalidate-cart-delete")
