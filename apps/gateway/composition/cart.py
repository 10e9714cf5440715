"""The cart as the public API shows it: the lines from the carts context, priced with one catalog read.

Carts is a leaf context: it holds product ids and quantities and never asks the catalog anything. So the gateway
composes a cart answer here, in a fixed number of contract calls whatever the number of lines:

- reading a cart: ``carts.cart_get``, then ``products.product_get_many`` for names, today's prices and what is
  available, both through the shared cache (``cart_cache`` for a user's cart, ``catalog_cache``): a user's cart
  read again with nothing changed asks neither context anything, and only what changed is asked for otherwise;
- adding a line: ``products.product_get`` (an unknown or inactive product is NotFound), then ``carts.cart_item_add``
  with the quantity available, which carts enforces with the per-line range under its own row lock, then the
  pricing read;
- changing a quantity: the same with ``product_get_many`` (a line of a product no longer sold may only go to 0);
- a cart with a voucher code: one more call, ``orders.voucher_quote``, for what it takes off the subtotal now;
- applying a voucher: the cart read, ``orders.voucher_quote`` (a voucher that cannot apply is VoucherInvalid and
  the cart keeps what it had), then ``carts.cart_voucher_set``;
- merging a guest cart at sign-in: ``carts.cart_get`` of the guest cart, ``products.product_get_many`` for what is
  available and today's prices, ``carts.guest_cart_merge``, then the pricing read.

A cart is named by the signed-in user's id or by a guest's token (``CartOwner``), never both. A line whose product
left the catalog for good can no longer be bought: it is not shown and not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from apps.gateway.composition import cart_cache, catalog_cache
from ecommerce.contracts.carts import CartDTO, MergeNotice, carts_service
from ecommerce.contracts.orders import orders_service
from ecommerce.contracts.products import ProductDTO, products_service
from ecommerce.errors import NotFound, VoucherInvalid
from ecommerce.money import ZERO, currency, money_sum, to_money


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in user's, or a guest's by token. Passed to the carts contract as its keywords."""

    user_id: int | None = None
    guest_token: str | None = None

    def keywords(self) -> dict[str, int | str]:
        if self.user_id is not None:
            return {"user_id": self.user_id}
        return {"guest_token": self.guest_token or ""}


@dataclass(frozen=True)
class PricedCartLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    available: int
    price_changed_from: Decimal | None = None


@dataclass(frozen=True)
class AppliedVoucher:
    code: str
    discount: Decimal
    problem: str | None = None


@dataclass(frozen=True)
class PricedCart:
    """A cart as shown now. ``valid_until``: the first instant at which its prices change without any write (a
    discount window of one of its products opens or closes); None when none is ahead."""

    items: list[PricedCartLine]
    total_quantity: int
    subtotal: Decimal
    currency: str
    updated_at: datetime | None
    voucher: AppliedVoucher | None = None
    notices: list[MergeNotice] = field(default_factory=list)
    valid_until: datetime | None = None

    @property
    def discount(self) -> Decimal:
        return self.voucher.discount if self.voucher else ZERO

    @property
    def total(self) -> Decimal:
        return to_money(self.subtotal - self.discount)


def available_quantity(product: ProductDTO) -> int:
    """What a shopper may put in a cart now: a product that is no longer sold has nothing available."""
    return product.stock if product.is_active else 0


def cart_priced(*, user_id: int | None = None, guest_token: str | None = None) -> PricedCart:
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    if owner.user_id is not None:
        return _priced(cart_cache.cart_get(user_id=owner.user_id), owner=owner)
    return _priced(carts_service.cart_get(**owner.keywords()), owner=owner)


def cart_item_add(*, user_id: int | None = None, guest_token: str | None = None, product_id: int,
                  quantity: int) -> PricedCart:
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    product = products_service.product_get(product_id=product_id)
    cart = carts_service.cart_item_add(**owner.keywords(), product_id=product_id, quantity=quantity,
                                       available=available_quantity(product),
                                       unit_price=to_money(product.effective_price))
    return _priced(cart, owner=owner)


def cart_item_set_quantity(*, user_id: int | None = None, guest_token: str | None = None, product_id: int,
                           quantity: int) -> PricedCart:
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    available = 0
    if quantity > 0:
        found = products_service.product_get_many(product_ids=[product_id])
        if not found:
            raise NotFound(f"Product {product_id} was not found.")
        available = available_quantity(found[0])
    cart = carts_service.cart_item_set_quantity(**owner.keywords(), product_id=product_id, quantity=quantity,
                                                available=available)
    return _priced(cart, owner=owner)


def cart_item_remove(*, user_id: int | None = None, guest_token: str | None = None, product_id: int) -> PricedCart:
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    return _priced(carts_service.cart_item_remove(**owner.keywords(), product_id=product_id), owner=owner)


def cart_voucher_apply(*, user_id: int | None = None, guest_token: str | None = None, code: str) -> PricedCart:
    """A voucher that cannot apply to this cart now is refused (VoucherInvalid) and the cart keeps what it had."""
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    cart = _priced(carts_service.cart_get(**owner.keywords()), owner=owner, with_voucher=False)
    quote = orders_service.voucher_quote(code=code, user_id=user_id, subtotal=cart.subtotal)
    saved = carts_service.cart_voucher_set(**owner.keywords(), code=quote.code)
    return replace(cart, voucher=AppliedVoucher(code=quote.code, discount=quote.discount),
                   updated_at=saved.updated_at)


def cart_voucher_remove(*, user_id: int | None = None, guest_token: str | None = None) -> PricedCart:
    owner = CartOwner(user_id=user_id, guest_token=guest_token)
    return _priced(carts_service.cart_voucher_set(**owner.keywords(), code=None), owner=owner)


def guest_cart_merge(*, guest_token: str, user_id: int) -> PricedCart:
    """At sign-in: the guest's lines join the user's, capped at what is available now and re-priced; the answer
    lists the capped lines. A guest cart already merged, unknown or expired merges nothing."""
    owner = CartOwner(user_id=user_id)
    try:
        guest = carts_service.cart_get(guest_token=guest_token)
    except NotFound:
        return _priced(carts_service.cart_get(user_id=user_id), owner=owner)
    catalog = products_service.product_get_many(product_ids=[line.product_id for line in guest.items]) \
        if guest.items else []
    merged = carts_service.guest_cart_merge(
        guest_token=guest_token, user_id=user_id,
        available={product.id: available_quantity(product) for product in catalog},
        unit_prices={product.id: to_money(product.effective_price) for product in catalog},
    )
    return replace(_priced(merged.cart, owner=owner), notices=merged.notices)


def _priced(cart: CartDTO, *, owner: CartOwner, with_voucher: bool = True) -> PricedCart:
    products = catalog_cache.products_by_id([line.product_id for line in cart.items])
    now = timezone.now()
    price_changes = []
    lines = []
    for line in cart.items:
        product = products.get(line.product_id)
        if product is None:
            continue
        unit_price = to_money(product.effective_price)
        price_changes.append(product.next_price_change(now))
        seen = line.added_unit_price
        lines.append(PricedCartLine(
            product_id=line.product_id, sku=product.sku, name=product.name, unit_price=unit_price,
            quantity=line.quantity, line_total=to_money(unit_price * line.quantity),
            available=available_quantity(product),
            price_changed_from=to_money(seen) if seen is not None and to_money(seen) != unit_price else None,
        ))
    subtotal = money_sum(line.line_total for line in lines)
    voucher = _voucher(cart.voucher_code, owner=owner, subtotal=subtotal) if with_voucher else None
    return PricedCart(
        items=lines,
        total_quantity=sum(line.quantity for line in lines),
        subtotal=subtotal,
        currency=currency(),
        updated_at=cart.updated_at,
        voucher=voucher,
        valid_until=min((at for at in price_changes if at is not None), default=None),
    )


def _voucher(code: str | None, *, owner: CartOwner, subtotal: Decimal) -> AppliedVoucher | None:
    """The cart's voucher as it stands now: one that stopped applying (expired, used up, the subtotal fell below
    its minimum) takes nothing off and says why, and checkout will refuse it."""
    if not code:
        return None
    try:
        quote = orders_service.voucher_quote(code=code, user_id=owner.user_id, subtotal=subtotal)
    except VoucherInvalid as invalid:
        return AppliedVoucher(code=code, discount=ZERO, problem=invalid.detail)
    return AppliedVoucher(code=quote.code, discount=quote.discount)
