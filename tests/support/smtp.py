"""A real SMTP server on a loopback port (aiosmtpd), keeping every message it accepted."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                return part.get_content()
        raise AssertionError(f"no {content_type} part in {self.subject!r}")


@dataclass
class SmtpSink:
    """The aiosmtpd handler: accepts every message and keeps it."""

    received: list[ReceivedMail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append(ReceivedMail(sender=envelope.mail_from, recipients=list(envelope.rcpt_tos),
                                              message=message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, recipient: str) -> list[ReceivedMail]:
        with self._lock:
            return [mail for mail in self.received if recipient in mail.recipients]

    def wait_for(self, recipient: str, count: int = 1, *, timeout: float = 30.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.to(recipient)) >= count:
                return self.to(recipient)
            time.sleep(0.1)
        raise AssertionError(f"{recipient} received {len(self.to(recipient))} mail(s), expected {count}")


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.sink = SmtpSink()
        self.port = port
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
