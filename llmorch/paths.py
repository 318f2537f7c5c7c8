"""Where llmorch keeps its files, following the XDG base directories (platformdirs reads XDG_* on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs("llmorch", appauthor=False)


def config_dir() -> Path:
    return Path(_DIRS.user_config_dir)


def data_dir() -> Path:
    """Indexes (the embedded Qdrant shards) live here."""
    return Path(_DIRS.user_data_dir)


def state_dir() -> Path:
    """Chat history, saved sessions and run records live here."""
    return Path(_DIRS.user_state_dir)


def cache_dir() -> Path:
    return Path(_DIRS.user_cache_dir)


def default_config_file() -> Path:
    return config_dir() / "config.yaml"


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
"""Chat transcripts and history are private: only their owner may read them."""


def make_private_dir(directory: Path) -> None:
    """Create `directory` (and parents) readable only by its owner; tighten it if it exists."""
    directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    directory.chmod(PRIVATE_DIR)


def write_private(file: Path, text: str) -> None:
    """Write `text` to a file only its owner can read, from the first byte on."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # O_CREAT's mode applies to a new file only
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
