"""Every test runs with its own XDG dirs, no LLMORCH_* from the developer's shell, and llmorch's
log records switched on (a library keeps them off until asked) so tests can capture them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("LLMORCH_"):
            monkeypatch.delenv(name)
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / "xdg" / kind.lower()))
    logger.enable("llmorch")
    yield
