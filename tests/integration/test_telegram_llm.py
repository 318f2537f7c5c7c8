"""The Telegram bot answering from the real llama.cpp server, through python-telegram-bot and the
Bot API stand-in: a streamed answer edited in place, a follow-up that keeps the conversation."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from indexed_vault import indexed_vault_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "channels"))

from bot_api_standin import ALICE, TOKEN, BotApiStandIn, polling

from llmorch.channels.telegram.bot import TelegramBot
from llmorch.config import load_config
from llmorch.runs.store import RunFilter, RunStore
from llmorch.workflows.chat import SessionStore

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.integration

NOTES = {
    "Backups.md": "# Backups\n\nThe nightly restic backup starts at 02:30 and goes to the NAS.\n",
    "Tea.md": "# Tea\n\nGreen tea steeps for two minutes at 80 degrees.\n",
}


@pytest.fixture
async def chat(
    tmp_path: Path, llama_server: LlamaServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotApiStandIn]:
    llm = llama_server.settings().model_dump(mode="json", exclude_none=True)
    env = indexed_vault_env(tmp_path, NOTES, llm)
    with BotApiStandIn() as api:
        monkeypatch.setenv("LLMORCH_TELEGRAM__ALLOWED_CHAT_IDS", f"[{ALICE}]")
        monkeypatch.setenv("LLMORCH_TELEGRAM__API_URL", api.api_url)
        monkeypatch.setenv("LLMORCH_TELEGRAM__EDIT_INTERVAL_S", "0.5")
        settings = load_config(Path(env["LLMORCH_CONFIG"])).settings
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
    assert "Backups.md" in await answer_to(chat, "/sources")  # what the answer was drawn from
    follow_up = await answer_to(chat, "And where does it back up to?")
    assert follow_up.strip() and not follow_up.startswith("⚠️")
    chat_runs = RunStore().list(RunFilter(workflow="qa"))
    assert [r["trigger"] for r in chat_runs] == ["chat", "chat"]  # /sources runs nothing
