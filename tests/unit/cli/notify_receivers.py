"""Local stand-ins for where notifications go, on 127.0.0.1 over real sockets: an HTTP receiver
(a webhook, or Telegram's Bot API answering sendMessage as documented) and an SMTP server
(aiosmtpd), each recording what it received."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    """What the receiver replies to one request; `delay_s` holds the reply back."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict[str, str])
    delay_s: float = 0.0


class HttpReceiver:
    """Records every POST; answers with the queued `answers` in order, then with success (for
    sendMessage, the Bot API's `{"ok": true, "result": Message}`)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer_for(self, received: Received) -> Answer:
        with self._lock:
            self.requests.append(received)
            if self.answers:
                return self.answers.pop(0)
        if received.path.endswith("/sendMessage"):
            sent = received.json()
            message = {
                "message_id": len(self.requests),
                "date": int(time.time()),
                "chat": {"id": sent["chat_id"], "type": "private"},
                "text": sent["text"],
            }
            return Answer(body={"ok": True, "result": message})
        return Answer(body={"received": True})


def _handler_for(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = receiver.answer_for(Received(self.path, headers, body))
            time.sleep(answer.delay_s)
            payload = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up waiting (a timeout test)
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def telegram_error(status: int, description: str, retry_after: int | None = None) -> Answer:
    """An error as the Bot API sends it: `ok: false`, the code, a description, maybe parameters."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return Answer(status=status, body=body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Mailbox:
    def __init__(self) -> None:
        self.mails: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.mails.append((envelope, message_from_bytes(content)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; with `users` it accepts AUTH LOGIN/PLAIN for those passwords, with
    `tls` it offers (and requires) STARTTLS with that context."""

    def __init__(
        self, *, users: dict[str, str] | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        self.port = free_port()
        self.logins: list[str] = []
        self._mailbox = _Mailbox()
        self._users = users
        options: dict[str, Any] = {}
        if users is not None:
            options |= {"authenticator": self._authenticate, "auth_require_tls": tls is not None}
        if tls is not None:
            options |= {"tls_context": tls, "require_starttls": True}
        self._controller = Controller(
            self._mailbox, hostname="127.0.0.1", port=self.port, **options
        )

    @property
    def mails(self) -> list[tuple[Envelope, Message]]:
        return self._mailbox.mails

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self._users is not None
            and self._users.get(data.login.decode()) == data.password.decode()
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl for this test only."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key
