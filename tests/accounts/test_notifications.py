"""The notifier: the setting picks the adapter; the SMTP adapter really speaks SMTP (to a loopback server)."""

from __future__ import annotations

import socketserver
import threading

from fusioncare.notifications import ConsoleNotifier, SmtpNotifier, build_notifier
from fusioncare.settings import Settings


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 to accept one message and keep it."""

    received: list[str] = []

    def handle(self) -> None:
        self.wfile.write(b"220 sink ready\r\n")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 sink\r\n")
            elif command == "DATA":
                self.wfile.write(b"354 go on\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data.decode())
                self.received.append("".join(body))
                self.wfile.write(b"250 queued\r\n")
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_setting_chooses_the_adapter(tmp_path):
    assert isinstance(build_notifier(Settings(data_dir=tmp_path)), ConsoleNotifier)
    smtp = build_notifier(Settings(data_dir=tmp_path, notifier="smtp", smtp_host="mail.internal", smtp_port=2525))
    assert isinstance(smtp, SmtpNotifier) and (smtp.host, smtp.port) == ("mail.internal", 2525)


def test_smtp_adapter_delivers_a_plain_text_message():
    _SmtpSink.received = []
    with socketserver.TCPServer(("127.0.0.1", 0), _SmtpSink) as server:
        thread = threading.Thread(target=server.handle_request, daemon=True)
        thread.start()
        notifier = SmtpNotifier(host="127.0.0.1", port=server.server_address[1], sender="FusionCare <a@b.test>",
                                starttls=False, timeout_seconds=5)
        notifier.send(to="ann@example.org", subject="Reset your password", body="Open this link.")
        thread.join(timeout=5)
    assert len(_SmtpSink.received) == 1
    message = _SmtpSink.received[0]
    assert "To: ann@example.org" in message and "Subject: Reset your password" in message
    assert "Open this link." in message
