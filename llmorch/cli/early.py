"""Start-up work that can begin before the CLI is imported: for `search` and `ask`, a thread loads
the config and opens the index, so the shard loads (native code, without the GIL) while Typer,
Rich and the model SDK import. Commands take what it opened, or open things themselves as usual."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmorch.config import LoadedConfig
    from llmorch.retrieval.store import VectorStore

_COMMANDS = frozenset({"search", "ask"})
# Global options that may come before the command without changing which config is loaded.
_CONFIG_NEUTRAL_OPTIONS = frozenset({"-v", "-vv", "--verbose", "--log-json"})
# Arguments after which the default collection is not what the command opens (another collection,
# no index at all) or nothing runs (help): the thread would only hold the index's lock for nothing.
_NOT_THE_DEFAULT_INDEX = frozenset(
    {"--collection", "--related", "--no-rag", "--mode", "--help", "-h"}
)

_THREAD_IMPORTS = ("llmorch.config", "llmorch.retrieval.backend", "llmorch.retrieval.edge")


class EarlyStart:
    """The config and default collection, opened in a worker thread on behalf of one command."""

    def __init__(self) -> None:
        self._config_ready = threading.Event()
        self._loaded: LoadedConfig | None = None
        self._store: VectorStore | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="llmorch-early-start", daemon=True)

    @classmethod
    def start(cls, argv: list[str]) -> EarlyStart | None:
        """Begin for a command that will search the default collection; None for any other."""
        command = next((arg for arg in argv if arg not in _CONFIG_NEUTRAL_OPTIONS), None)
        if command not in _COMMANDS or _NOT_THE_DEFAULT_INDEX.intersection(argv):
            return None
        # Imported here, before the thread starts: two threads importing one package at once
        # can see each other's half-initialised modules.
        for module in _THREAD_IMPORTS:
            importlib.import_module(module)
        early = cls()
        early._thread.start()
        return early

    def config(self) -> LoadedConfig | None:
        """The config loaded from the default sources; None if loading failed (the command's own
        load then reports why)."""
        self._config_ready.wait()
        return self._loaded

    def take_store(self) -> VectorStore | None:
        """The opened default collection, once; the error opening it met; or None when it was
        not opened (a Qdrant server, a config that did not load)."""
        self._thread.join()
        store, self._store = self._store, None
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return store

    def close(self) -> None:
        """Close what no command took (a usage error, a question answered without notes)."""
        self._thread.join()
        if self._store is not None:
            self._store.close()
            self._store = None

    def _run(self) -> None:
        from llmorch.config import load_config
        from llmorch.retrieval.backend import open_store
        from llmorch.retrieval.edge import EdgeStore

        try:
            self._loaded = load_config(None)
        except Exception:  # the command loads the config again, and reports what is wrong with it
            return
        finally:
            self._config_ready.set()
        settings = self._loaded.settings
        if settings.store.kind != "edge":
            return  # a server has no shard to load; its client import would only compete
        try:
            store = open_store(settings, must_exist=True)
        except Exception as exc:  # raised again by take_store, in the command's own thread
            self._error = exc
            return
        try:
            if isinstance(store, EdgeStore):
                store.load()
        except Exception as exc:
            store.close()
            self._error = exc
            return
        self._store = store
