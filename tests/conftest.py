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


@pytest.fixture(autouse=True)
def fresh_run_recorder() -> Iterator[None]:
    """No test inherits another's open run database, or its memory of a broken one."""
    yield
    from llmorch.runs import recorder

    for store in recorder._stores.values():  # pyright: ignore[reportPrivateUsage]
        store.close()
    recorder._stores.clear()  # pyright: ignore[reportPrivateUsage]
    recorder._broken.clear()  # pyright: ignore[reportPrivateUsage]
