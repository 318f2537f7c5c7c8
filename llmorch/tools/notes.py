"""`read_note`: lets the model read a whole note, but only inside the configured note roots."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field

from llmorch.errors import ToolError
from llmorch.tools.base import Tool, tool

_NOTE_SUFFIXES = (".md", ".markdown")


def resolve_note(path: str, roots: Sequence[Path]) -> Path:
    """The real file `path` names inside one of `roots`; ToolError for anything else.

    Paths are resolved (symlinks followed, `..` collapsed) before the containment check, so
    neither traversal nor a symlink pointing out of a root can reach other files.
    """
    if not roots:
        raise ToolError(
            "read_note has no folders to read from",
            hint="set tools.note_roots or ingest.paths, or ingest notes first",
        )
    resolved_roots = [root.expanduser().resolve() for root in roots]
    wanted = Path(path.strip()).expanduser()
    candidates = [wanted] if wanted.is_absolute() else [root / wanted for root in resolved_roots]
    # Models often name a note by its title; try the markdown suffixes after the name as given.
    candidates += [
        c.with_name(c.name + suffix) for c in list(candidates) for suffix in _NOTE_SUFFIXES
    ]
    outside = False
    for candidate in candidates:
        real = candidate.resolve()
        if not any(real.is_relative_to(root) for root in resolved_roots):
            outside = True
            continue
        if real.is_file():
            return real
    if outside:
        raise ToolError(f"read_note only reads files inside the note folders; {path!r} is outside")
    raise ToolError(f"no note at {path!r} in the note folders")


def read_note_tool(
    roots: Sequence[Path] | Callable[[], Sequence[Path]], *, max_bytes: int = 2_000_000
) -> Tool:
    """The read-only note reader bound to these root folders, or to a function that names them
    when the tool is first called (so listing tools never opens the index)."""
    roots_of: Callable[[], Sequence[Path]] = roots if callable(roots) else lambda: tuple(roots)

    @tool
    def read_note(path: Annotated[str, Field(min_length=1)]) -> str:
        """Read one note in full, by the path a search result gave as its source.

        Args:
            path: The note's path relative to the notes folder, e.g. 'projects/tea.md'.
        """
        note = resolve_note(path.split("#", 1)[0], roots_of())
        if note.stat().st_size > max_bytes:
            raise ToolError(f"{path!r} is larger than {max_bytes} bytes; search it instead")
        try:
            return note.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ToolError(f"{path!r} is not a UTF-8 text note") from exc

    return read_note
