"""Stopping the bot (what SIGTERM and Ctrl-C do) while it is writing an answer."""

from __future__ import annotations

import asyncio

from bot_api_standin import ALICE, TOKEN, BotApiStandIn, Failure, polling

from llmorch.channels.telegram.bot import TelegramBot
from llmorch.config import Settings
from llmorch.workflows.chat import SessionStore


async def test_stopping_finishes_the_answer_being_written(
    telegram_api: BotApiStandIn, settings: Settings, store: SessionStore
) -> None:
    async with polling(TelegramBot(settings, TOKEN, store), within=20) as stop:
        telegram_api.user_says(ALICE, "when do backups run?")
        await telegram_api.until(lambda: any(m.edit_times for m in telegram_api.chat(ALICE)))
        stop.set()  # what SIGTERM does, in the middle of the answer
    (answer,) = telegram_api.chat(ALICE)
    assert answer.text.startswith("Turn 1") and answer.text.endswith("</code>")


async def test_stopping_while_telegram_is_unreachable_at_start_ends_at_once(
    telegram_api: BotApiStandIn, settings: Settings, store: SessionStore
) -> None:
    telegram_api.fail_next("deleteWebhook", Failure(502, "Bad Gateway"), times=1000)
    bot = TelegramBot(settings, TOKEN, store)
    stop = asyncio.Event()
    running = asyncio.create_task(bot.run(stop))
    await telegram_api.until(lambda: len(telegram_api.called("deleteWebhook")) >= 2)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert not telegram_api.called("getUpdates")
