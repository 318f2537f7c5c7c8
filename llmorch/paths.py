"""Where llmorch keeps its files, following the XDG base directories (platformdirs reads XDG_* on Linux)."""

from __future__ import annotations

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
