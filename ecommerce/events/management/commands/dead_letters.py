"""``manage.py dead_letters list|replay``: what each consumer gave up on, and sending it back.

    manage.py dead_letters list [--consumer NAME] [--all] [--errors]
    manage.py dead_letters replay ID [ID ...]
    manage.py dead_letters replay --consumer NAME          every dead letter of that consumer

Run it with the environment of the role that owns the consumer (``scripts/split.py env users``): the letters live in
that role's database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ecommerce.events import subscriptions
from ecommerce.events.dead_letters import dead_letter_queue_depths, dead_letters_list, dead_letters_replay


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _summary(text: str) -> str:
    return text.strip().partition("\n")[0][:160]


class Command(BaseCommand):
    help = "List the events each consumer gave up on (dead letters), or replay them to their consumer."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="list dead letters, oldest first")
        listing.add_argument("--consumer", help="only this consumer's")
        listing.add_argument("--all", action="store_true", help="include letters already replayed")
        listing.add_argument("--errors", action="store_true", help="print each error in full")
        replay = actions.add_parser("replay", help="send dead letters back to their consumer")
        replay.add_argument("ids", nargs="*", type=int, help="dead letter ids (from `list`)")
        replay.add_argument("--consumer", help="replay every dead letter of this consumer")

    def handle(self, *args: Any, **options: Any) -> None:
        consumer = options.get("consumer")
        if consumer:
            try:
                subscriptions.by_consumer(consumer)
            except LookupError as error:
                raise CommandError(str(error)) from error
        if options["action"] == "list":
            self._list(consumer=consumer, include_replayed=options["all"], full_errors=options["errors"])
        else:
            self._replay(ids=options["ids"], consumer=consumer)

    def _list(self, *, consumer: str | None, include_replayed: bool, full_errors: bool) -> None:
        letters = dead_letters_list(consumer=consumer, include_replayed=include_replayed)
        if not letters:
            self.stdout.write("No dead letters.")
        else:
            self.stdout.write(f"{'id':>6}  {'consumer':<26} {'event type':<16} {'event id':<36} {'tries':>5} "
                              f"{'age':>5}  error")
            for letter in letters:
                state = " (replayed)" if letter.replayed else ""
                self.stdout.write(
                    f"{letter.id:>6}  {letter.consumer:<26} {letter.event_type:<16} {letter.event_id:<36} "
                    f"{letter.attempts:>5} {_age(letter.age):>5}  {_summary(letter.error)}{state}"
                )
                if full_errors:
                    self.stdout.write("        " + letter.error.replace("\n", "\n        "))
        try:
            depths = dead_letter_queue_depths()
        except Exception as error:  # noqa: BLE001 - the table above is still worth showing without a broker
            self.stderr.write(f"(dead-letter queues not inspected: {type(error).__name__})")
            return
        for name, depth in sorted(depths.items()):
            if consumer in (None, name):
                self.stdout.write(f"dead-letter queue of {name}: {depth} message(s)")

    def _replay(self, *, ids: list[int], consumer: str | None) -> None:
        if not ids and not consumer:
            raise CommandError("give dead letter ids, or --consumer NAME to replay all of that consumer's")
        report = dead_letters_replay(letter_ids=ids or None, consumer=consumer)
        for letter_id in report.replayed:
            self.stdout.write(f"replayed {letter_id}")
        for letter_id in report.failed_again:
            self.stdout.write(f"failed again {letter_id} (see `dead_letters list --errors`)")
        for letter_id, reason in sorted(report.skipped.items()):
            self.stdout.write(f"skipped {letter_id}: {reason}")
        self.stdout.write(f"{len(report.replayed)} replayed, {len(report.failed_again)} failed again, "
                          f"{len(report.skipped)} skipped.")
