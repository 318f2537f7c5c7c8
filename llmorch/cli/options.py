"""Options several commands share, declared once so their names and help never drift apart."""

from __future__ import annotations

from typing import Annotated

import typer


def _collection_name(name: str | None) -> str | None:
    """A bad name is bad usage (exit 2), caught before any config or index is opened."""
    from llmorch.config import check_collection_name

    try:
        return None if name is None else check_collection_name(name)
    except ValueError as exc:
        raise typer.BadParameter(
            str(exc).removeprefix(f"invalid collection name {name!r}: ")
        ) from exc


CollectionOption = Annotated[
    str | None,
    typer.Option(
        "--collection",
        help="Collection to use (default: store.collection).",
        callback=_collection_name,
    ),
]
TagsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tags", "-t", help="Only notes with one of these tags (repeat or comma-separate)."
    ),
]
YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Run tools that need approval without asking (see tools.require_approval).",
    ),
]
ModelOption = Annotated[
    str | None, typer.Option("--model", "-m", help="Model name (default: llm.model).")
]
