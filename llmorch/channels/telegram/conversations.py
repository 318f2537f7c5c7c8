"""One conversation per chat: a ChatSession saved as `telegram-<chat id>` among the chat sessions
(so `llmorch chat --session telegram-<id>` carries it on in a terminal), with its own Runtime."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from loguru import logger

from llmorch.config import Settings
from llmorch.workflows.chat import ChatSession, SavedSession, SessionStore
from llmorch.workflows.runtime import Runtime


@dataclass
class _Chat:
    session: ChatSession
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One turn at a time per chat: the next message sees the previous answer."""


class Conversations:
    def __init__(self, settings: Settings, store: SessionStore) -> None:
        self.settings = settings
        self.store = store
        self._chats: dict[int, _Chat] = {}

    def session_name(self, chat_id: int) -> str:
        return f"telegram-{chat_id}"

    def chat(self, chat_id: int) -> tuple[ChatSession, asyncio.Lock]:
        """The chat's session (the saved one after a restart) and the lock its turns take."""
        chat = self._chats.get(chat_id)
        if chat is None:
            name = self.session_name(chat_id)
            saved = self.store.load(name) or SavedSession(
                name=name, mode=self.settings.telegram.mode
            )
            runtime = Runtime(self.settings, model=saved.model, on_note=logger.info)
            chat = self._chats[chat_id] = _Chat(ChatSession(runtime, self.store, saved=saved))
        return chat.session, chat.lock

    def reset(self, chat_id: int) -> ChatSession:
        """Forget the chat's conversation (its runs stay recorded); mode and filters carry on."""
        session, _ = self.chat(chat_id)
        session.reset()
        session.state.name = self.session_name(chat_id)
        session.save()
        return session

    async def aclose(self) -> None:
        for chat in self._chats.values():
            await chat.session.runtime.aclose()
        self._chats.clear()
