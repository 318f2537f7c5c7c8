"""Bot fixtures: the Bot API stand-in, the scripted model server from the CLI tests, an indexed
vault, and the bot itself polling the stand-in in the test's event loop."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import yaml
from bot_api_standin import ALICE, TOKEN, BotApiStandIn, polling

# The scripted model server lives with the CLI tests; every suite drives the same fake model.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from scripted_llm import ScriptedLlm

from llmorch.channels.telegram.bot import TelegramBot
from llmorch.config import Settings, load_config
from llmorch.workflows.chat import SessionStore

NOTES = {
    "Backup strategy.md": "# Backup strategy\n\nRestic backs up the vault nightly at 02:30.\n",
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays.\n",
}


@pytest.fixture
def telegram_api() -> Iterator[BotApiStandIn]:
    with BotApiStandIn() as api:
        yield api


@pytest.fixture
def llm() -> Iterator[ScriptedLlm]:
    with ScriptedLlm(chunk_delay=0.05) as server:
        yield server


@pytest.fixture
def config_file(tmp_path: Path, llm: ScriptedLlm, telegram_api: BotApiStandIn) -> Path:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, encoding="utf-8")
    data = {
        "llm": {"base_url": llm.base_url, "max_retries": 0, "timeout_s": 10},
        "store": {"path": str(tmp_path / "qdrant")},
        "ingest": {"paths": [str(vault)]},
        "telegram": {
            "allowed_chat_ids": [ALICE],
            "api_url": telegram_api.api_url,
            "edit_interval_s": 0.3,
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
async def settings(config_file: Path) -> Settings:
    from llmorch.ingest import ingest

    loaded = load_config(config_file).settings
    await ingest([], loaded)
    return loaded


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


@pytest.fixture
async def bot(settings: Settings, store: SessionStore) -> AsyncIterator[TelegramBot]:
    bot = TelegramBot(settings, TOKEN, store)
    async with polling(bot, within=10):
        yield bot
