"""Fills in the customer's e-mail on orders placed before checkout copied it, from the users context. Safe to run
again and on a live shop: it writes only orders that still have none (see ``services.customer_emails``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.orders import services


class Command(BaseCommand):
    help = "Fill in the customer's e-mail on orders that have none, from the users context, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=services.customer_emails.BACKFILL_BATCH_SIZE,
                            help="Orders read (and users looked up in one call) per batch.")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        counts = services.orders_backfill_customer_emails(batch_size=batch_size)
        self.stdout.write(f"Orders without a customer e-mail: {counts.examined}; filled: {counts.filled}; "
                          f"left blank (user no longer exists): {counts.users_missing}.")
