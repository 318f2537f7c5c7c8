"""Messages that reach the chat whatever Telegram says: a 429 is waited out for its `retry_after`,
network errors are retried with backoff, and HTML Telegram will not parse goes as plain text."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from loguru import logger

from llmorch.channels.telegram.markup import to_html

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.error import RetryAfter

_T = TypeVar("_T")

ATTEMPTS = 5
MAX_BACKOFF_S = 30.0


class Outbox:
    """Sends and edits one chat's messages through the library's Bot, Markdown rendered as HTML."""

    def __init__(self, bot: Bot, *, attempts: int = ATTEMPTS) -> None:
        self.bot = bot
        self.attempts = attempts

    async def send(self, chat_id: int, markdown: str) -> int:
        """Post `markdown` (at most one message long); returns the new message's id."""
        message = await self._rendered(
            markdown, lambda text, mode: self.bot.send_message(chat_id, text, parse_mode=mode)
        )
        return message.message_id

    async def edit(self, chat_id: int, message_id: int, markdown: str) -> None:
        """Replace a message's text; an edit that changes nothing is not an error."""
        from telegram.error import BadRequest

        try:
            await self._rendered(
                markdown,
                lambda text, mode: self.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, parse_mode=mode
                ),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def _rendered(
        self, markdown: str, post: Callable[[str, str | None], Awaitable[_T]]
    ) -> _T:
        """Post the HTML rendering; when Telegram cannot parse it, the Markdown as it is."""
        from telegram.error import BadRequest

        try:
            return await self.call(lambda: post(to_html(markdown), "HTML"))
        except BadRequest as exc:
            if "parse" not in str(exc).lower():
                raise
            logger.info("telegram: sending plain text, Telegram could not parse the HTML: {}", exc)
            return await self.call(lambda: post(markdown, None))

    async def call(self, make: Callable[[], Awaitable[_T]]) -> _T:
        """`make()` until it succeeds: waits out 429s, retries network errors with backoff; a bad
        request (or the last failure) is raised."""
        from telegram.error import BadRequest, NetworkError, RetryAfter

        backoff = 1.0
        for _ in range(self.attempts - 1):
            try:
                return await make()
            except RetryAfter as exc:
                wait = _seconds(exc)
                logger.warning("telegram: rate limited, waiting {:.0f} s as asked", wait)
                await asyncio.sleep(wait)
            except BadRequest:
                raise  # a NetworkError in the library's tree, but sending it again will not help
            except NetworkError as exc:
                logger.warning("telegram: {}; retrying in {:.0f} s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        return await make()


def _seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for: a timedelta (PTB_TIMEDELTA, the library's next default) or an int."""
    wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
