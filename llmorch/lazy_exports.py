"""Lazy package exports: `from llmorch.llm import LlmClient` works, yet importing `llmorch.llm`
loads none of its modules until a name is used, so `llmorch --version` never pays for openai.

Each package `__init__` lists its names three times, for three readers: `__all__` for users and
linters, `if TYPE_CHECKING:` imports for pyright, and the map given here for the runtime; the
exported-names test checks that the three agree.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of `package`, whose public names live in its submodules:
    `exports` maps each submodule (relative: "client") to the names taken from it."""
    where = {name: f"{package}.{module}" for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
