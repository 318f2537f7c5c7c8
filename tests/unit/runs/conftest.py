"""Run-record fixtures: a database file in tmp_path and settings to record with."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmorch.config import Settings


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def settings() -> Settings:
    return Settings.model_validate({"llm": {"api_key": "sk-live-0123456789abcdef"}})
