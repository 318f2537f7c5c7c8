"""`llmorch telegram`: the Telegram bot, until Ctrl-C or SIGTERM."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from llmorch.cli import render
from llmorch.cli.state import AppState

if TYPE_CHECKING:
    from llmorch.config import Settings


def telegram(ctx: typer.Context) -> None:
    """Answer your Telegram chats from your notes (long polling: no public URL needed).

    Token: $TELEGRAM_BOT_TOKEN (telegram.token_env) or telegram.token_file.

    Only telegram.allowed_chat_ids are answered; other chats are logged with their id.

    In a chat: /new, /mode, /sources, /run WORKFLOW, /help.

    Example: TELEGRAM_BOT_TOKEN=123456:ABC-DEF llmorch telegram
    """
    import asyncio

    from llmorch.channels.telegram.library_logs import forward_library_logs
    from llmorch.redaction import register_secrets

    settings = ctx.ensure_object(AppState).settings
    token = settings.telegram.resolved_token()
    register_secrets([token])
    forward_library_logs()
    if not settings.telegram.allowed_chat_ids:
        render.status(
            "warning: telegram.allowed_chat_ids is empty, so nobody is answered; message the bot "
            "and add the chat id the log names"
        )
    asyncio.run(_serve(settings, token))


async def _serve(settings: Settings, token: str) -> None:
    import asyncio
    import signal

    from llmorch import paths
    from llmorch.channels.telegram.bot import TelegramBot
    from llmorch.workflows.chat import SessionStore

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    bot = TelegramBot(settings, token, SessionStore(paths.state_dir() / "sessions"))
    await bot.run(stop, on_ready=lambda name: render.status(f"@{name} is answering (Ctrl-C stops)"))
