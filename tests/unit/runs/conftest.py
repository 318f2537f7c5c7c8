"""Run-record fixtures: a database file in tmp_path and settings to record with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmorch.config import Settings
from llmorch.runs import recorder


@pytest.fixture(autouse=True)
def fresh_recorder_state() -> Iterator[None]:
    """Each test starts with no open store and no file remembered as broken."""
    yield
    for store in recorder._stores.values():  # pyright: ignore[reportPrivateUsage]
        store.close()
    recorder._stores.clear()  # pyright: ignore[reportPrivateUsage]
    recorder._broken.clear()  # pyright: ignore[reportPrivateUsage]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def settings() -> Settings:
    return Settings.model_validate({"llm": {"api_key": "sk-live-0123456789abcdef"}})
