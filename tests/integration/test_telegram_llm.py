"""The Telegram bot answering from the real llama.cpp server, through python-telegram-bot and the
Bot API stand-in: a streamed answer edited in place, a follow-up that keeps the conversation."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "channels"))

from bot_api_standin import ALICE, TOKEN, BotApiStandIn, polling

from llmorch.channels.telegram.bot import TelegramBot
from llmorch.config import Settings, load_config
from llmorch.ingest import ingest
from llmorch.runs.store import RunFilter, RunStore
from llmorch.workflows.chat import SessionStore

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.integration

NOTES = {
    "Backup strategy.md": (
        "# Backup strategy\n\n## Schedule\n\n"
        "Restic backs up the laptop every night at 02:30 to the NAS called bramble.\n"
    ),
    "Tea.md": "# Tea\n\nGreen tea steeps for two minutes at 80 degrees.\n",
}


@pytest.fixture
async def chat(tmp_path: Path, llama_server: LlamaServer) -> AsyncIterator[BotApiStandIn]:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, encoding="utf-8")
    with BotApiStandIn() as api:
        config = tmp_path / "config.yaml"
        data = {
            "llm": llama_server.settings().model_dump(mode="json", exclude_none=True),
            "store": {"path": str(tmp_path / "qdrant")},
            "ingest": {"paths": [str(vault)]},
            "telegram": {
                "allowed_chat_ids": [ALICE],
                "api_url": api.api_url,
                "edit_interval_s": 0.5,
            },
        }
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        settings: Settings = load_config(config).settings
        await ingest([], settings)
        bot = TelegramBot(settings, TOKEN, SessionStore(tmp_path / "sessions"))
        async with polling(bot, within=120):
            yield api


async def answer_to(api: BotApiStandIn, text: str) -> str:
    before = len(api.chat(ALICE))
    api.user_says(ALICE, text)

    def done() -> bool:
        shown = api.chat(ALICE)
        return len(shown) > before and not shown[-1].text.endswith("…")

    await api.until(done, within=240)
    return api.chat(ALICE)[-1].text


async def test_the_real_model_answers_a_chat_by_editing_one_message(chat: BotApiStandIn) -> None:
    text = await answer_to(chat, "At what time does the nightly backup run?")
    (message,) = chat.chat(ALICE)
    assert message.edit_times, "the answer was not written into the placeholder"
    assert not text.startswith("⚠️"), text
    assert "02:30" in text or "2:30" in text
    assert "Backup strategy.md" in text  # the cited source follows the answer
    follow_up = await answer_to(chat, "And where does it back up to?")
    assert follow_up.strip() and not follow_up.startswith("⚠️")
    runs = RunStore().list(RunFilter())
    assert [r["trigger"] for r in runs] == ["chat", "chat"]
