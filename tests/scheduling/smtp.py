"""A real SMTP server for the tests: aiosmtpd on a loopback port, keeping every message it is handed."""

from __future__ import annotations

import email
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from tests.support import _free_port


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str | bytes | None:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                payload = part.get_content()
                return payload
        return None

    @property
    def text(self) -> str:
        return str(self.part("text/plain") or "")

    @property
    def html(self) -> str:
        return str(self.part("text/html") or "")

    @property
    def calendar(self) -> bytes | None:
        found = self.part("text/calendar")
        return found.encode() if isinstance(found, str) else found


class _Handler:
    def __init__(self, delay_seconds: float) -> None:
        self.received: list[Received] = []
        self.delay_seconds = delay_seconds
        self.lock = threading.Lock()
        self.started = threading.Event()  # a message is being received

    async def handle_DATA(self, server, session, envelope) -> str:
        self.started.set()
        if self.delay_seconds:
            time.sleep(self.delay_seconds)  # a slow mail server (blocks this test server's loop on purpose)
        message = email.message_from_bytes(envelope.content, policy=default)
        with self.lock:
            self.received.append(Received(to=tuple(envelope.rcpt_tos), message=message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    """``with SmtpServer() as smtp:`` -> smtp.port, smtp.received, smtp.wait_for(n)."""

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.port = _free_port()
        self.handler = _Handler(delay_seconds)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float = 30, what=lambda r: True) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.received if what(r)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return [r for r in self.received if what(r)]

    def env(self) -> dict[str, str]:
        """The settings that send FusionCare's e-mail here."""
        return {"FUSIONCARE_NOTIFIER": "smtp", "FUSIONCARE_SMTP_HOST": "127.0.0.1",
                "FUSIONCARE_SMTP_PORT": str(self.port), "FUSIONCARE_SMTP_STARTTLS": "false"}

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
