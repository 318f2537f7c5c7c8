"""One conversation per chat: a ChatSession saved as `telegram-<chat id>` among the chat sessions
(so `llmorch chat --session telegram-<id>` carries it on in a terminal), with its own Runtime."""

from __future__ import annotations

import asyncio

from loguru import logger

from llmorch.config import Settings
from llmorch.workflows.chat import ChatSession, SavedSession, SessionStore
from llmorch.workflows.runtime import Runtime


class Conversations:
    """The chats the bot has heard from this run, each opened on its first message."""

    def __init__(self, settings: Settings, store: SessionStore) -> None:
        self.settings = settings
        self.store = store
        self._sessions: dict[int, ChatSession] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def session_name(self, chat_id: int) -> str:
        return f"telegram-{chat_id}"

    def lock(self, chat_id: int) -> asyncio.Lock:
        """Taken for each turn: a chat's messages are answered one after another, in order."""
        return self._locks.setdefault(chat_id, asyncio.Lock())

    def session(self, chat_id: int) -> ChatSession:
        """The chat's conversation: the saved one after a restart, else a new one."""
        session = self._sessions.get(chat_id)
        if session is None:
            name = self.session_name(chat_id)
            saved = self.store.load(name) or SavedSession(
                name=name, mode=self.settings.telegram.mode
            )
            runtime = Runtime(self.settings, model=saved.model, on_note=logger.info)
            session = self._sessions[chat_id] = ChatSession(runtime, self.store, saved=saved)
        return session

    def reset(self, chat_id: int) -> ChatSession:
        """Forget the chat's conversation (its runs stay recorded); mode and filters carry on."""
        session = self.session(chat_id)
        session.reset()
        session.state.name = self.session_name(chat_id)
        session.save()
        return session

    async def aclose(self) -> None:
        for session in self._sessions.values():
            await session.runtime.aclose()
        self._sessions.clear()
