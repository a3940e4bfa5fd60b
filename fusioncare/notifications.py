"""Pluggable notifier for e-mails to people (password resets, account notices, appointment messages).

``FUSIONCARE_NOTIFIER`` chooses the adapter: ``console`` logs the message (development and tests),
``smtp`` sends it through ``FUSIONCARE_SMTP_*``. Callers depend only on the ``Notifier`` protocol. A message is
plain text, optionally with an HTML alternative and attachments (an appointment's calendar file).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from fusioncare.settings import Settings

log = logging.getLogger("fusioncare.notifications")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=PUBLISH"
    data: bytes


class Notifier(Protocol):
    def send(self, *, to: str, subject: str, body: str, html: str | None = None,
             attachments: Sequence[Attachment] = ()) -> None:
        """Deliver one message (plain text, optionally with an HTML alternative and attachments).

        Never put health content in it: e-mail is not a private channel."""


class ConsoleNotifier:
    """Writes the message to the log instead of sending it; for development only."""

    def send(self, *, to: str, subject: str, body: str, html: str | None = None,
             attachments: Sequence[Attachment] = ()) -> None:
        attached = "".join(f"\n[attached: {a.filename}, {a.content_type}, {len(a.data)} bytes]" for a in attachments)
        log.info("e-mail to %s\nSubject: %s\n\n%s%s", to, subject, body, attached)


@dataclass(frozen=True)
class SmtpNotifier:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout_seconds: float = 10.0

    def send(self, *, to: str, subject: str, body: str, html: str | None = None,
             attachments: Sequence[Attachment] = ()) -> None:
        message = build_message(sender=self.sender, to=to, subject=subject, body=body, html=html,
                                attachments=attachments)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def build_message(*, sender: str, to: str, subject: str, body: str, html: str | None = None,
                  attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """A MIME message: text/plain, with text/html as its alternative, then the attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        kind, _, rest = attachment.content_type.partition(";")
        maintype, _, subtype = kind.strip().partition("/")
        params = dict(p.strip().split("=", 1) for p in rest.split(";") if "=" in p)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename,
                               params=params)
    return message


def build_notifier(settings: Settings) -> Notifier:
    if settings.notifier == "smtp":
        if not settings.smtp_host:
            raise ValueError("FUSIONCARE_NOTIFIER=smtp needs FUSIONCARE_SMTP_HOST")
        return SmtpNotifier(host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from,
                            username=settings.smtp_username, password=settings.smtp_password,
                            starttls=settings.smtp_starttls)
    return ConsoleNotifier()


class AfterResponseNotifier:
    """Queues messages on a request's background tasks, so they go out after the response.

    Used where answering faster for one kind of person than another would leak information (a reset link
    is only sent when the account exists). Delivery failures are logged, never raised to the person.
    """

    def __init__(self, notifier: Notifier, background_tasks) -> None:
        self._notifier = notifier
        self._tasks = background_tasks

    def send(self, *, to: str, subject: str, body: str, html: str | None = None,
             attachments: Sequence[Attachment] = ()) -> None:
        self._tasks.add_task(self._deliver, to=to, subject=subject, body=body, html=html, attachments=attachments)

    def _deliver(self, *, to: str, subject: str, body: str, html: str | None = None,
                 attachments: Sequence[Attachment] = ()) -> None:
        try:
            # Plain messages go out in the protocol's original shape, so older notifiers keep working.
            if html is None and not attachments:
                self._notifier.send(to=to, subject=subject, body=body)
            else:
                self._notifier.send(to=to, subject=subject, body=body, html=html, attachments=attachments)
        except Exception:
            log.exception("sending an e-mail failed (subject %r)", subject)
