"""The bot: python-telegram-bot's long polling (no public URL needed), allowed chats only, one
conversation each, answers streamed into the chat. One bad update is logged, never the bot's end."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from loguru import logger

from llmorch.channels.telegram import replies
from llmorch.channels.telegram.answer_stream import AnswerStream
from llmorch.channels.telegram.conversations import Conversations
from llmorch.channels.telegram.delivery import MAX_BACKOFF_S, Outbox
from llmorch.errors import ConfigError, LlmorchError
from llmorch.workflows.modes import ASK_MODES

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import Application

    from llmorch.config import Settings
    from llmorch.workflows.ask import Delta
    from llmorch.workflows.chat import ChatSession, SessionStore


class TelegramBot:
    """Answers the allowed chats until stopped; `llmorch telegram` runs one, a program can too:
    `await TelegramBot(settings, token, SessionStore(folder)).run(stop_event)`."""

    def __init__(self, settings: Settings, token: str, store: SessionStore) -> None:
        self.settings = settings.telegram
        self.allowed = frozenset(self.settings.allowed_chat_ids)
        self.conversations = Conversations(settings, store)
        self.application = _application(token, self.settings.api_url)
        self._listen()
        self.outbox = Outbox(self.application.bot)
        self._in_flight = asyncio.Semaphore(self.settings.max_in_flight)

    def _listen(self) -> None:
        from telegram import Update
        from telegram.ext import TypeHandler

        self.application.add_handler(TypeHandler(Update, self.on_update))
        self.application.add_error_handler(self.on_error)

    async def run(
        self, stop: asyncio.Event, *, on_ready: Callable[[str], None] | None = None
    ) -> None:
        """Answer until `stop` is set; what is being answered then is finished first. `on_ready`
        hears the bot's @username once it polls."""
        app = self.application
        if not await self._connect(stop):
            return
        try:
            # Deleting any webhook first is retried while Telegram is unreachable; a stop ends that.
            polling = app.updater.start_polling(  # pyright: ignore[reportOptionalMemberAccess]
                allowed_updates=["message"], bootstrap_retries=-1
            )
            if not await _unless_stopped(polling, stop):
                return
            await app.start()
            logger.info(
                "telegram: @{} polling; answers chats {}", app.bot.username, sorted(self.allowed)
            )
            if on_ready is not None:
                on_ready(app.bot.username)
            await stop.wait()
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()  # waits for the updates being handled
            await app.shutdown()
            await self.conversations.aclose()

    async def _connect(self, stop: asyncio.Event) -> bool:
        """Meet the Bot API (getMe), waiting for it while the network is down; False if stopped."""
        from telegram.error import InvalidToken, NetworkError

        backoff = 1.0
        while not stop.is_set():
            try:
                await self.application.initialize()
                return True
            except InvalidToken as exc:
                raise ConfigError(
                    "Telegram refused the bot token", hint="check it with @BotFather (/token)"
                ) from exc
            except NetworkError as exc:
                logger.warning("telegram: cannot reach {}: {}", self.settings.api_url, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        return False

    async def on_update(self, update: Update, _: Any) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        if chat.id not in self.allowed:
            logger.warning(
                "telegram: ignored a message from chat {} ({}): not in telegram.allowed_chat_ids",
                chat.id,
                chat.username or chat.title or chat.type,
            )
            return
        async with self.conversations.lock(chat.id):
            try:
                await self._reply(chat.id, self.conversations.session(chat.id), message.text)
            except LlmorchError as exc:
                await self.outbox.send(chat.id, replies.error(exc))
            except Exception:  # a bug must cost one answer, not the bot; the log has the traceback
                logger.exception("telegram: failed to answer chat {}", chat.id)
                await self.outbox.send(chat.id, "⚠️ Something went wrong; the bot's log says what.")

    async def on_error(self, update: object, context: Any) -> None:
        """What the library caught outside our handler (e.g. sending the error message failed)."""
        logger.opt(exception=context.error).error("telegram: an update could not be handled")

    async def _reply(self, chat_id: int, session: ChatSession, text: str) -> None:
        if not text.startswith("/"):
            await self._answer(chat_id, session, text)
            return
        word, _, argument = text.partition(" ")
        command, argument = word.split("@", 1)[0].lower(), argument.strip()
        if command in ("/start", "/help"):
            await self.outbox.send(chat_id, replies.HELP)
        elif command in ("/new", "/reset"):
            self.conversations.reset(chat_id)
            await self.outbox.send(chat_id, "New conversation: earlier messages are forgotten.")
        elif command == "/mode":
            await self.outbox.send(chat_id, self._mode(session, argument))
        elif command == "/model":
            await self.outbox.send(chat_id, await self._model(session, argument))
        elif command == "/tags":
            await self.outbox.send(chat_id, self._tags(session, argument))
        elif command == "/limit":
            await self.outbox.send(chat_id, self._limit(session, argument))
        elif command == "/sources":
            found = session.sources
            text = replies.sources(found, heading="Sources") if found else "No sources yet."
            await self.outbox.send(chat_id, text)
        elif command == "/run":
            await self._run(chat_id, session, argument)
        else:
            await self.outbox.send(chat_id, f"Unknown command {command}; /help lists them.")

    def _mode(self, session: ChatSession, mode: str) -> str:
        if mode:
            if mode not in ASK_MODES:
                return f"Unknown mode {mode!r}; choose one of {', '.join(ASK_MODES)}."
            session.state.mode = mode
            session.save()
        return f"Mode: {session.mode}"

    async def _model(self, session: ChatSession, model: str) -> str:
        if model:
            await session.set_model(model)  # a name the server does not offer is an error reply
            session.save()
        return f"Model: {await session.runtime.llm().model()}"

    def _tags(self, session: ChatSession, tags: str) -> str:
        if tags:
            session.set_tags(tags)
            session.save()
        return f"Tags: {', '.join(session.state.tags) or 'none (all notes)'}"

    def _limit(self, session: ChatSession, limit: str) -> str:
        if limit:
            if not limit.isdigit():
                return "Give the number of passages, e.g. /limit 4"
            session.set_limit(int(limit))
            session.save()
        count = session.state.limit
        return f"Limit: {count} passage{'' if count == 1 else 's'}"

    async def _answer(self, chat_id: int, session: ChatSession, text: str) -> None:
        from llmorch.llm.stream import TextDelta

        async def answer(stream: AnswerStream) -> str:
            def on_delta(delta: Delta) -> None:
                if isinstance(delta, TextDelta):  # the model's reasoning stays out of the chat
                    stream.add(delta.text)

            result = await session.ask(text, on_delta=on_delta, on_status=logger.info)
            return replies.answer(result)

        await self._streamed(chat_id, "…", answer)

    async def _run(self, chat_id: int, session: ChatSession, line: str) -> None:
        from llmorch.workflows.field_pairs import read_run_line

        if not line:
            await self.outbox.send(chat_id, 'Give a workflow, e.g. /run qa query="backups?"')
            return
        name, raw = read_run_line(line, session.runtime.settings)

        async def run(_: AnswerStream) -> str:
            return await session.run_workflow(name, raw, on_status=logger.info)

        await self._streamed(chat_id, f"Running {name} …", run)

    async def _streamed(
        self, chat_id: int, placeholder: str, write: Callable[[AnswerStream], Awaitable[str]]
    ) -> None:
        """Post `placeholder` at once, then, in turn with the other chats, `write` the reply into
        it; an expected failure is shown in its place."""
        stream = AnswerStream(self.outbox, chat_id, interval=self.settings.edit_interval_s)
        await stream.start(placeholder)
        try:
            async with self._in_flight:
                text = await write(stream)
            await stream.finish(text)
        except LlmorchError as exc:
            await stream.finish(replies.error(exc))
        finally:
            await stream.close()


async def _unless_stopped(work: Coroutine[Any, Any, object], stop: asyncio.Event) -> bool:
    """Run `work` unless `stop` is set first, which cancels it; True when it completed."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    task.result()
    return True


def _application(token: str, api_url: str) -> Application[Any, Any, Any, Any, Any, Any]:
    # Opt in to the library's coming default (durations as timedelta); without it every 429 it
    # reports also emits a deprecation warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from telegram.ext import Application

    return (
        Application.builder()
        .token(token)
        .base_url(f"{api_url.rstrip('/')}/bot")
        .concurrent_updates(True)  # chats answer side by side; each chat's turns keep their order
        .build()
    )
