"""Per-invocation state from the global options; loads config and configures logging on first use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported when a command first needs settings: pydantic costs ~100 ms, which `--help` skips.
    from llmorch.cli.early import EarlyStart
    from llmorch.config import LoadedConfig, Settings
    from llmorch.retrieval.store import VectorStore

_LEVEL_BY_VERBOSITY = {0: None, 1: "INFO", 2: "DEBUG"}


@dataclass
class AppState:
    config_file: Path | None = None
    verbosity: int = 0
    log_json: bool = False
    early: EarlyStart | None = None
    _loaded: LoadedConfig | None = field(default=None, init=False, repr=False)
    _warned: bool = field(default=False, init=False, repr=False)

    def load(self, overrides: dict[str, Any] | None = None) -> LoadedConfig:
        """Settings for this command (flags as overrides); logging is configured once, from them."""
        if self._loaded is None or overrides:
            from llmorch.config import load_config

            adoptable = self.early is not None and self.config_file is None and not overrides
            early = self.early.config() if self.early is not None and adoptable else None
            self._loaded = early or load_config(self.config_file, overrides)
            self._configure_logging(self._loaded.settings)
            self._warn_plain_text_keys(self._loaded)
        return self._loaded

    @property
    def settings(self) -> Settings:
        return self.load().settings

    def opened_index(self) -> Callable[[], VectorStore | None] | None:
        """How to take the default collection the early start opened for these very settings."""
        if self.early is None or self._loaded is None or self._loaded is not self.early.config():
            return None
        return self.early.take_store

    def _warn_plain_text_keys(self, loaded: LoadedConfig) -> None:
        if self._warned:
            return
        self._warned = True
        for key in loaded.settings.plain_text_keys(loaded.file_data):
            from llmorch.cli import render

            render.status(
                f"warning: {key} is written in plain text in {loaded.file}; "
                "prefer api_key_env or api_key_file (config show redacts it)"
            )

    def _configure_logging(self, settings: Settings) -> None:
        from llmorch.logging import configure_logging

        level = _LEVEL_BY_VERBOSITY.get(min(self.verbosity, 2)) or settings.logging.level
        configure_logging(
            level=level,
            json_lines=True if (self.log_json or settings.logging.json_lines) else None,
            file=settings.logging.file,
            secret_values=settings.secret_values(),
        )
