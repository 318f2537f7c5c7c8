"""Notes as MCP resources: `note://<path in its folder>` URIs, listed from the note folders and
read (markdown plus title and tags) through the same containment checks as `read_note`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from llmorch.errors import ToolError
from llmorch.ingest.note_rule import NoteRule

SCHEME = "note://"


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


def note_files(roots: Sequence[Path], rule: NoteRule, *, max_bytes: int) -> Iterator[NoteFile]:
    """Every note of the folders, by the rule ingest applies (hidden folders and files outside
    skipped, symlinks contained)."""
    from llmorch.ingest.sources import scan_source

    for root in roots:
        base = root.expanduser()
        if not base.is_dir():
            continue
        scan = scan_source(
            base, include=list(rule.include), exclude=list(rule.exclude), max_file_bytes=max_bytes
        )
        for found in scan.files:
            yield NoteFile(SCHEME + quote(found.rel), found.path, found.rel)


def read_note_resource(
    uri: str, roots: Sequence[Path], rule: NoteRule, *, max_bytes: int
) -> NoteText:
    """The note a `note://` URI names; ToolError for another scheme, a missing or outside file."""
    from llmorch.ingest.markdown import parse_note
    from llmorch.tools.notes import resolve_note

    if not uri.startswith(SCHEME):
        raise ToolError(f"{uri!r} is not a note:// URI")
    relative = unquote(uri.removeprefix(SCHEME))
    path = resolve_note(relative, roots, rule)
    if path.stat().st_size > max_bytes:
        raise ToolError(f"{relative!r} is larger than {max_bytes} bytes")
    try:
        markdown = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{relative!r} is not a UTF-8 text note") from exc
    note = parse_note(markdown, fallback_title=path.stem)
    return NoteText(uri, markdown, note.title, note.tags, path.stat().st_mtime)
