"""Where conversations and results reach people outside the terminal: the Telegram bot."""

from typing import TYPE_CHECKING

from llmorch.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llmorch.channels.telegram.bot import TelegramBot

__all__ = ["TelegramBot"]

__getattr__, __dir__ = lazy_exports(__name__, {"telegram.bot": ["TelegramBot"]})
