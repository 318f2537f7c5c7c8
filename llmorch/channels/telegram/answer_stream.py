"""An answer written into the chat while the model writes it: one message edited in place at most
every `interval` seconds (Telegram refuses faster edits), more messages once it outgrows one."""

from __future__ import annotations

import asyncio
import contextlib

from loguru import logger

from llmorch.channels.telegram.delivery import Outbox
from llmorch.channels.telegram.markup import split_message

WRITING = " …"
"""Marks an answer still being written."""


class AnswerStream:
    """Feed it text with `add` as it arrives; `finish` shows the final text, every piece of it."""

    def __init__(self, outbox: Outbox, chat_id: int, *, interval: float) -> None:
        self.outbox = outbox
        self.chat_id = chat_id
        self.interval = interval
        self.message_ids: list[int] = []
        self._shown: list[str] = []
        self._text = ""
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._last_edit = 0.0

    async def start(self, placeholder: str = "…") -> None:
        """Post the message the answer will be written into, then follow the text as it grows."""
        self.message_ids.append(await self.outbox.send(self.chat_id, placeholder))
        self._shown.append(placeholder)
        self._pump = asyncio.create_task(self._follow())

    def add(self, text: str) -> None:
        self._text += text
        self._changed.set()

    async def finish(self, markdown: str) -> None:
        """Stop following the stream and show `markdown` as the answer's final text."""
        await self.close()
        await self._show(markdown)

    async def close(self) -> None:
        """Stop following the stream (again is harmless), e.g. when the answer failed unexpectedly."""
        self._finished.set()
        self._changed.set()
        if self._pump is not None:
            await self._pump  # lets an edit in flight complete: a cancelled send could duplicate

    async def _follow(self) -> None:
        from telegram.error import TelegramError

        while True:
            await self._changed.wait()
            if self._finished.is_set():
                return
            self._changed.clear()
            try:
                await self._show(self._text + WRITING)
            except TelegramError as exc:  # the final text is still shown: one lost edit is no harm
                logger.warning("telegram: could not update the answer being written: {}", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), self.interval)

    async def _show(self, markdown: str) -> None:
        """Bring the messages up to `markdown`: edit those whose piece changed, post new pieces."""
        for i, piece in enumerate(split_message(markdown) or [WRITING.strip()]):
            if i >= len(self.message_ids):
                self.message_ids.append(await self.outbox.send(self.chat_id, piece))
                self._shown.append(piece)
            elif self._shown[i] != piece:
                await self._pace()
                await self.outbox.edit(self.chat_id, self.message_ids[i], piece)
                self._shown[i] = piece

    async def _pace(self) -> None:
        """Keep `interval` between edits, the final one included."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self._last_edit + self.interval - loop.time())
        self._last_edit = loop.time()
