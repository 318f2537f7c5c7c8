"""A local stand-in for Telegram's Bot API on 127.0.0.1, for tests of the bot.

It speaks the documented wire format over real HTTP (POST /bot<token>/<method>, form-encoded or
JSON parameters, `{"ok": true, "result": ...}` answers, update and message objects shaped like the
examples in https://core.telegram.org/bots/api), holds getUpdates open like long polling, and
judges HTML the way Telegram does: unknown or unbalanced tags and texts over 4096 characters are
a 400. Tests type as users (`user_says`), make the next calls fail (`fail_next`), and read what
each chat now shows (`chat`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl

TOKEN = "4242424242:AAF-stand-in-token_0123456789abcdef"
BOT_USER = {
    "id": 4242424242,
    "is_bot": True,
    "first_name": "llmorch",
    "username": "llmorch_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
ALICE = 111
"""A user the tests' configs allow."""
STRANGER = 666
"""A user no config allows."""
TEXT_LIMIT = 4096
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span", "tg-emoji",
}  # fmt: skip


@dataclass
class Shown:
    """A message as the chat shows it now, and how it got there."""

    message_id: int
    text: str
    parse_mode: str | None
    edit_times: list[float] = field(default_factory=list[float])


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    at: float
    """time.monotonic() when it arrived."""


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


class BotApiStandIn:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.refuse_html = False
        """Answer every HTML text with Telegram's parse error, as for markup it cannot read."""
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 100
        self._chats: dict[int, list[Shown]] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._changed = threading.Condition()
        self._closing = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        """What `telegram.api_url` is set to; the library appends /bot<token>/<method>."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> BotApiStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # What tests do

    def user_says(self, chat_id: int, text: str, *, username: str = "alice") -> None:
        """A private-chat message from user `chat_id`, as getUpdates delivers it."""
        person = {"id": chat_id, "is_bot": False, "first_name": username.title()}
        message: dict[str, Any] = {
            "message_id": self._message_id(),
            "from": {**person, "username": username, "language_code": "en"},
            "chat": {**person, "username": username, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
        with self._changed:
            self._updates.append({"update_id": self._next_update, "message": message})
            self._next_update += 1
            self._changed.notify_all()

    def fail_next(self, method: str, failure: Failure, times: int = 1) -> None:
        with self._changed:
            self._failures.setdefault(method, []).extend([failure] * times)

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def chat(self, chat_id: int) -> list[Shown]:
        """The bot's messages in the chat, oldest first, as they read now."""
        with self._changed:
            return list(self._chats.get(chat_id, []))

    async def until(self, check: Callable[[], bool], within: float = 10.0) -> None:
        """Wait (without blocking the bot, which shares the test's event loop) for `check`."""
        deadline = time.monotonic() + within
        while not check():
            assert time.monotonic() < deadline, (
                f"timed out; calls: {[c.method for c in self.calls]}"
            )
            await asyncio.sleep(0.05)

    # The Bot API

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._changed:
            self.calls.append(Call(method, params, time.monotonic()))
            self._changed.notify_all()
            pending = self._failures.get(method)
            if pending:
                return _error(pending.pop(0))
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._changed:
            try:
                if self.refuse_html and params.get("parse_mode") == "HTML":
                    raise _BadRequest(
                        "can't parse entities: unsupported start tag at byte offset 0"
                    )
                result = self._answer(method, params)
            except _BadRequest as exc:
                return _error(Failure(400, f"Bad Request: {exc}"))
            self._changed.notify_all()
        return 200, {"ok": True, "result": result}

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("deleteWebhook", "sendChatAction"):
            return True
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            text, mode = _visible(params), params.get("parse_mode")
            shown = Shown(self._message_id(), params["text"], mode)
            self._chats.setdefault(chat_id, []).append(shown)
            return self._message_json(chat_id, shown.message_id, text)
        if method == "editMessageText":
            chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
            text, mode = _visible(params), params.get("parse_mode")
            found = [m for m in self._chats.get(chat_id, []) if m.message_id == message_id]
            if not found:
                raise _BadRequest("message to edit not found")
            shown = found[0]
            if (shown.text, shown.parse_mode) == (params["text"], mode):
                raise _BadRequest(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            shown.text, shown.parse_mode = params["text"], mode
            shown.edit_times.append(time.monotonic())
            return self._message_json(chat_id, message_id, text)
        raise _BadRequest(f"method {method} is not in this stand-in")

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0))
        deadline = time.monotonic() + float(params.get("timeout", 0))
        with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing and time.monotonic() < deadline:
                self._changed.wait(min(deadline - time.monotonic(), 0.2))
            return list(self._updates[: int(params.get("limit", 100))])

    def _message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    def _message_json(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "first_name": "Alice", "type": "private"},
            "date": int(time.time()),
            "text": text,
        }


class Polling(Protocol):
    async def run(
        self, stop: asyncio.Event, *, on_ready: Callable[[str], None] | None = None
    ) -> None: ...


@contextlib.asynccontextmanager
async def polling(bot: Polling, *, within: float = 30.0) -> AsyncIterator[asyncio.Event]:
    """The bot polling in this event loop until the block ends, then stopped as SIGTERM stops it
    (setting the yielded event earlier stops it sooner); its answers in flight finish first."""
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(bot.run(stop, on_ready=lambda _: ready.set()))
    await asyncio.wait_for(ready.wait(), within)
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(running, within)


class _BadRequest(Exception):
    pass


def _error(failure: Failure) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": failure.status,
        "description": failure.description,
    }
    if failure.retry_after is not None:
        body["parameters"] = {"retry_after": failure.retry_after}
    return failure.status, body


def too_many_requests(retry_after: int) -> Failure:
    """Telegram's 429, as it answers a flood of edits."""
    return Failure(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def _visible(params: dict[str, Any]) -> str:
    """The text as Telegram would show it; a 400 for what Telegram refuses."""
    text = str(params.get("text", ""))
    if params.get("parse_mode") == "HTML":
        text = TelegramHtml.visible_text(text)
    elif params.get("parse_mode"):
        raise _BadRequest(f"unsupported parse_mode {params['parse_mode']!r} in this stand-in")
    if not text.strip():
        raise _BadRequest("message text is empty")
    if len(text) > TEXT_LIMIT:
        raise _BadRequest("message is too long")
    return text


class TelegramHtml(HTMLParser):
    """Telegram's HTML rules: only its tags, each closed in order; the rest is a parse error."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.text: list[str] = []

    @classmethod
    def visible_text(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        parser.close()
        if parser.open:
            raise _BadRequest(
                f"can't parse entities: can't find end tag corresponding to start tag {parser.open[-1]!r}"
            )
        return "".join(parser.text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise _BadRequest(f"can't parse entities: unsupported start tag {tag!r}")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise _BadRequest(f"can't parse entities: unexpected end tag {tag!r}")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            raise _BadRequest(f"can't parse entities: unsupported entity &{name};")
        self.text.append(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(unescape(f"&#{name};"))


def _handler_for(stand_in: BotApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            prefix = f"/bot{stand_in.token}/"
            if not self.path.startswith(prefix):
                self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params: dict[str, Any] = json.loads(body or "{}")
            else:
                params = dict(parse_qsl(body))
            self._reply(*stand_in.handle(self.path[len(prefix) :], params))

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the bot stopped polling while this getUpdates was held open

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
