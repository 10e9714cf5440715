"""Publishing that knows whether the broker took the message.

Every publish goes out with publisher confirms (kombu's ``confirm_publish`` transport option: the call returns only
once RabbitMQ acknowledged the message, and raises when it refused it) and as ``mandatory``: a message no queue is
bound for comes back as a ``basic.return`` before the acknowledgement. A returned message is *not* delivered,
although the broker acknowledges it; :meth:`ConfirmedPublisher.publish` tells the two apart, so nobody counts an
unroutable message as sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from kombu import Connection, Exchange, Producer

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
# A broker that accepted the connection but stopped answering (a memory or disk alarm blocks publishers, a frozen
# node) must not hold a relay, and the outbox rows it has locked, forever: every confirm and every socket read or
# write gives up after this long.
IO_TIMEOUT_SECONDS = 10.0


class Unroutable(Exception):
    """The broker returned the message: no queue is bound for its routing key."""


def connection(url: str | None = None) -> Connection:
    return Connection(
        url or settings.CELERY_BROKER_URL,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        transport_options={"confirm_publish": True, "read_timeout": IO_TIMEOUT_SECONDS,
                           "write_timeout": IO_TIMEOUT_SECONDS},
        heartbeat=0,
    )


class ConfirmedPublisher:
    """Publishes on one channel of ``broker``; each :meth:`publish` returns once the broker confirmed the message,
    and raises :class:`Unroutable` when it came back instead."""

    def __init__(self, broker: Connection) -> None:
        self.broker = broker
        self.channel = broker.channel()
        self._returned: set[str] = set()
        self.channel.events["basic_return"].add(self._on_return)
        self.producer = Producer(self.channel)

    def _on_return(self, error: Exception, exchange: str, routing_key: str, message: Any) -> None:
        message_id = (getattr(message, "properties", None) or {}).get("message_id", "")
        self._returned.add(str(message_id))
        logger.warning("broker returned message %s (exchange %r, routing key %r): %s",
                       message_id, exchange, routing_key, error)

    def publish(self, body: Any, *, exchange: Exchange | str, routing_key: str, message_id: str,
                headers: dict[str, Any] | None = None, **properties: Any) -> None:
        self._returned.discard(message_id)
        self.producer.publish(
            body, exchange=exchange, routing_key=routing_key, mandatory=True, delivery_mode=2,
            message_id=message_id, headers=headers or {}, confirm_timeout=IO_TIMEOUT_SECONDS,
            **properties,
        )
        if message_id in self._returned:
            self._returned.discard(message_id)
            raise Unroutable(f"no queue is bound for {routing_key!r} on {getattr(exchange, 'name', exchange)!r}")


@contextmanager
def confirmed_publisher(url: str | None = None) -> Iterator[ConfirmedPublisher]:
    broker = connection(url)
    try:
        broker.ensure_connection(max_retries=0)  # one attempt: the caller decides when to try again
        yield ConfirmedPublisher(broker)
    except BaseException:
        # A broken or hanging broker: drop the socket rather than wait for a goodbye that may never come.
        broker.collect(socket_timeout=1)
        raise
    broker.release()
