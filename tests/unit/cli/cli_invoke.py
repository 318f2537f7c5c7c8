"""The type of the `cli` fixture, importable by test modules (conftest modules are not)."""

from __future__ import annotations

from typing import Protocol

from typer.testing import Result


class Invoke(Protocol):
    def __call__(self, *args: str, input: str | None = None) -> Result: ...
