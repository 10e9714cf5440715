"""Tells every cache of carts that a user's cart changed (the version the carts contract publishes per cart).

Rule guarded here: every change of a cart touches the cart row (its ``updated_at``, which the cart answer shows),
whichever path makes it: adding, changing and removing lines, clearing, a voucher, a guest cart merged in, a
checkout claiming the lines and a release giving them back. So a save of the cart row, caught by ``post_save``, is
the one place that bumps the version, and no write path can forget it; deleting a cart bumps it too.
"""

from __future__ import annotations

from typing import Any

from ecommerce.cache_versions import bump
from ecommerce.contracts.carts import cart_version


def on_cart_saved_or_deleted(sender: type, instance: Any, **_: Any) -> None:
    if instance.user_id is not None:  # a guest's cart is not cached by anyone
        bump(cart_version(instance.user_id))
