"""Demo data through the public contracts only, so it seeds a monolith and a split deployment alike.

Idempotent: categories are matched by slug, products by sku (bulk inserts skip existing skus), users by e-mail and
orders are made only for a customer who has none, so running it twice changes nothing the second time.

Demo users get ``--password`` (or ``DEMO_PASSWORD``), else a random password each, printed once. A lost password is
never recovered, it is replaced: ``--reset-passwords`` sets the demo users that already exist to the chosen password
(or to new random ones, printed), which signs out their sessions."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.gateway.composition import cart as cart_composition
from ecommerce.contracts.carts import carts_service
from ecommerce.contracts.orders import OrderStatus, orders_service
from ecommerce.contracts.products import CategoryInput, DiscountType, ProductFilter, ProductInput, products_service
from ecommerce.contracts.users import AddressInput, UserChanges, UserDTO, users_service
from ecommerce.roles import Role

BATCH_SIZE = 1000

CATEGORIES = [
    ("Electronics", None, "Gadgets, audio and computing."),
    ("Audio", "electronics", "Headphones, speakers and microphones."),
    ("Computers", "electronics", "Laptops, desktops and accessories."),
    ("Home & Kitchen", None, "Everything for the home."),
    ("Books", None, "Printed and digital books."),
    ("Sports", None, "Gear for sport and outdoors."),
]
NOUNS = ["Headphones", "Speaker", "Laptop Stand", "Keyboard", "Mouse", "Kettle", "Blender", "Novel", "Cookbook",
         "Yoga Mat", "Water Bottle", "Backpack", "Desk Lamp", "Monitor", "Charger"]
ADJECTIVES = ["Wireless", "Compact", "Premium", "Classic", "Ergonomic", "Portable", "Smart", "Eco", "Pro", "Mini"]

DEMO_USERS = [
    ("customer@example.com", "Demo Customer", Role.CUSTOMER),
    ("catalog@example.com", "Demo Catalog Staff", Role.CATALOG_STAFF),
    ("orders@example.com", "Demo Order Staff", Role.ORDER_STAFF),
]

# (idempotency key, quantities of the first products, status to move the order to)
DEMO_ORDERS = [
    ("seed-order-pending", [1], OrderStatus.PENDING),
    ("seed-order-paid", [2, 1], OrderStatus.PAID),
    ("seed-order-shipped", [1, 1], OrderStatus.SHIPPED),
    ("seed-order-delivered", [3], OrderStatus.DELIVERED),
    ("seed-order-canceled", [1], OrderStatus.CANCELED),
]
STATUS_PATH = {
    OrderStatus.PENDING: [],
    OrderStatus.PAID: [OrderStatus.PAID],
    OrderStatus.SHIPPED: [OrderStatus.PAID, OrderStatus.SHIPPED],
    OrderStatus.DELIVERED: [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
    OrderStatus.CANCELED: [OrderStatus.CANCELED],
}


def demo_product(index: int, category_ids: list[int]) -> ProductInput:
    """The index-th demo product: deterministic, so reruns produce the same skus."""
    noun = NOUNS[index % len(NOUNS)]
    adjective = ADJECTIVES[(index // len(NOUNS)) % len(ADJECTIVES)]
    price = Decimal(5 + (index * 37) % 495) + Decimal("0.99")
    discounted = index % 7 == 0
    return ProductInput(
        sku=f"DEMO-{index:06d}",
        name=f"{adjective} {noun} {index}",
        short_description=f"A {adjective.lower()} {noun.lower()}.",
        description=f"The {adjective.lower()} {noun.lower()} number {index}, made for the demo shop.",
        category=category_ids[index % len(category_ids)],
        price=price,
        discount_type=DiscountType.PERCENT if discounted else DiscountType.NONE,
        discount_value=Decimal("10") if discounted else Decimal("0"),
        stock=(index * 13) % 200 + 20,
    )


class Command(BaseCommand):
    help = "Create demo categories, products, users and orders (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=200, help="How many demo products (default 200).")
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD") or None,
                            help="Password of the demo users it creates, or resets (default: DEMO_PASSWORD, else a "
                                 "random one per user, printed once).")
        parser.add_argument("--reset-passwords", action="store_true",
                            help="Also set the password of demo users that already exist, as for new ones.")
        parser.add_argument("--no-orders", action="store_true", help="Skip the demo orders.")

    def handle(self, *args: Any, **options: Any) -> None:
        category_ids = self.seed_categories()
        self.seed_products(options["products"], category_ids)
        users = self.seed_users(options["password"], reset=options["reset_passwords"])
        if not options["no_orders"]:
            self.seed_orders(users["customer@example.com"], users["orders@example.com"])
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

    def seed_categories(self) -> list[int]:
        existing = {c.slug: c.id for c in products_service.category_list(page=1, page_size=100).results}
        for name, parent_slug, description in CATEGORIES:
            slug = name.lower().replace(" & ", "-").replace(" ", "-")
            if slug not in existing:
                parent = existing.get(parent_slug) if parent_slug else None
                created = products_service.category_create(
                    category=CategoryInput(name=name, slug=slug, description=description, parent=parent)
                )
                existing[slug] = created.id
        self.stdout.write(f"Categories: {len(CATEGORIES)} present.")
        return sorted(existing.values())

    def seed_products(self, count: int, category_ids: list[int]) -> None:
        inserted = 0
        for start in range(0, count, BATCH_SIZE):
            batch = [demo_product(i, category_ids) for i in range(start + 1, min(start + BATCH_SIZE, count) + 1)]
            inserted += products_service.product_bulk_create(products=batch)
            done = min(start + BATCH_SIZE, count)
            self.stdout.write(f"\rProducts: {done}/{count} ({done * 100 // max(count, 1)}%)", ending="")
            self.stdout.flush()
        self.stdout.write(f"\rProducts: {count} present, {inserted} new.{' ' * 20}")

    def seed_users(self, password: str | None, *, reset: bool) -> dict[str, UserDTO]:
        users: dict[str, UserDTO] = {}
        for email, name, role in DEMO_USERS:
            found = [u for u in users_service.user_list(search=email, page=1, page_size=5).results if u.email == email]
            user_password = password or secrets.token_urlsafe(12)
            if found and not reset:
                users[email] = found[0]
                self.stdout.write(f"User {email} ({role}) exists; password unchanged (--reset-passwords sets one).")
                continue
            if found:
                users[email] = found[0]
                users_service.password_set(user_id=found[0].id, new_password=user_password)
                self.stdout.write(f"User {email} ({role}) exists; password reset to: {user_password}")
                continue
            user = users_service.user_register(email=email, password=user_password, name=name)
            if role != Role.CUSTOMER:
                user = users_service.user_update(user_id=user.id, changes=UserChanges(role=role))
            users[email] = user
            self.stdout.write(f"User {email} ({role}) created with password: {user_password}")
        return users

    def seed_orders(self, customer: UserDTO, staff: UserDTO) -> None:
        addresses = users_service.address_list(user_id=customer.id, page=1, page_size=1).results
        address = addresses[0] if addresses else users_service.address_create(
            user_id=customer.id,
            address=AddressInput(full_name=customer.name, street="1 Demo Street", city="Springfield",
                                 state="IL", zip_code="62701", country="US", phone="+15550100", is_default=True),
        )
        if orders_service.order_list(user_id=customer.id, page=1, page_size=1).count:
            self.stdout.write("Demo orders exist.")
            return
        products = products_service.product_list(filters=ProductFilter(in_stock=True), page=1, page_size=10).results
        for key, quantities, target in DEMO_ORDERS:
            carts_service.cart_clear(user_id=customer.id)
            for product, quantity in zip(products, quantities, strict=False):
                cart_composition.cart_item_add(user_id=customer.id, product_id=product.id, quantity=quantity)
            order = orders_service.order_checkout(
                user_id=customer.id, address_id=address.id, idempotency_key=key, request_fingerprint=key
            ).order
            for status in STATUS_PATH[target]:
                order = orders_service.order_transition(order_id=order.id, status=status, actor_id=staff.id)
            self.stdout.write(f"Order {order.number}: {order.status}")

