"""Notes as MCP resources: `note://<path in its folder>` URIs, listed from the note folders and
read (markdown plus title and tags) through the same containment checks as `read_note`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from llmorch.errors import ToolError

SCHEME = "note://"
_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True, slots=True)
class NoteFile:
    uri: str
    path: Path
    relative: str


@dataclass(frozen=True, slots=True)
class NoteText:
    uri: str
    markdown: str
    title: str
    tags: list[str]
    modified: float


def note_files(roots: Sequence[Path]) -> Iterator[NoteFile]:
    """Every markdown note in the folders, hidden and tool folders (.obsidian, .git) skipped."""
    from llmorch.ingest.sources import ALWAYS_SKIPPED_DIRS

    for root in roots:
        base = root.expanduser().resolve()
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in ALWAYS_SKIPPED_DIRS and d[:1] != ".")
            for name in sorted(files):
                if name.endswith(_SUFFIXES) and not name.startswith("."):
                    path = Path(folder, name)
                    relative = path.relative_to(base).as_posix()
                    yield NoteFile(SCHEME + quote(relative), path, relative)


def read_note_resource(uri: str, roots: Sequence[Path], *, max_bytes: int) -> NoteText:
    """The note a `note://` URI names; ToolError for another scheme, a missing or outside file."""
    from llmorch.ingest.markdown import parse_note
    from llmorch.tools.notes import resolve_note

    if not uri.startswith(SCHEME):
        raise ToolError(f"{uri!r} is not a note:// URI")
    relative = unquote(uri.removeprefix(SCHEME))
    path = resolve_note(relative, roots)
    if path.stat().st_size > max_bytes:
        raise ToolError(f"{relative!r} is larger than {max_bytes} bytes")
    try:
        markdown = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{relative!r} is not a UTF-8 text note") from exc
    note = parse_note(markdown, fallback_title=path.stem)
    return NoteText(uri, markdown, note.title, note.tags, path.stat().st_mtime)
