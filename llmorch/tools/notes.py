"""`read_note`: lets the model read a whole note, but only inside the configured note roots."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field

from llmorch.errors import ToolError
from llmorch.ingest.note_rule import NoteRule, is_hidden
from llmorch.tools.base import Tool, tool

_NOTE_SUFFIXES = (".md", ".markdown")


def resolve_note(path: str, roots: Sequence[Path], rule: NoteRule | None = None) -> Path:
    """The real file `path` names inside one of `roots`; ToolError for anything else.

    Paths are resolved (symlinks followed, `..` collapsed) before the containment check, so
    neither traversal nor a symlink pointing out of a root can reach other files; what counts as a
    note is the NoteRule ingest applies (default: markdown, outside hidden folders). A bare name
    (`Backup strategy`, `[[Backup strategy]]`) finds the note of that name in any folder, the
    way Obsidian resolves a wikilink.
    """
    if not roots:
        raise ToolError(
            "read_note has no folders to read from",
            hint="set tools.note_roots or ingest.paths, or ingest notes first",
        )
    rule = rule or NoteRule()
    resolved_roots = [root.expanduser().resolve() for root in roots]
    name = _link_target(path)
    if not name:
        raise ToolError(f"no note at {path!r} in the note folders")
    wanted = Path(name).expanduser()
    candidates = [wanted] if wanted.is_absolute() else [root / wanted for root in resolved_roots]
    # Models often name a note by its title; try the markdown suffixes after the name as given.
    candidates += [
        c.with_name(c.name + suffix) for c in list(candidates) for suffix in _NOTE_SUFFIXES
    ]
    outside = False
    for candidate in candidates:
        real = candidate.resolve()
        if not _inside(real, resolved_roots):
            outside = True
            continue
        if real.is_file():
            if rule.refusal(_collapsed(candidate), resolved_roots) is not None:
                raise ToolError(
                    f"read_note only reads notes (ingest.include, outside hidden folders); "
                    f"{path!r} is not one"
                )
            return real
    if outside:
        raise ToolError(f"read_note only reads files inside the note folders; {path!r} is outside")
    if len(wanted.parts) == 1:
        return _by_name(name, path, resolved_roots, rule)
    raise ToolError(f"no note at {path!r} in the note folders")


def _collapsed(candidate: Path) -> Path:
    """The path as named with `..` collapsed but its last symlink kept, so the rule judges both
    the name the model gave and the file it leads to."""
    return candidate.parent.resolve() / candidate.name


def _link_target(path: str) -> str:
    """The note a reference names: `[[Note|alias]]` and `[[Note#Heading]]` mean `Note`."""
    text = path.strip()
    if text.startswith("[[") and text.endswith("]]"):
        text = text[2:-2].split("|", 1)[0]
    return text.split("#", 1)[0].strip()


def _inside(real: Path, roots: Sequence[Path]) -> bool:
    return any(real.is_relative_to(root) for root in roots)


def _by_name(name: str, path: str, roots: Sequence[Path], rule: NoteRule) -> Path:
    """The one note called `name` (any case, with or without its suffix) anywhere in the roots."""
    key = name.casefold()
    found: list[Path] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not is_hidden(d)]
            for file in map(Path(folder).joinpath, files):
                if key in (file.stem.casefold(), file.name.casefold()):
                    real = file.resolve()
                    if rule.refusal(file, roots) is None and real not in found:
                        found.append(real)
    if len(found) == 1:
        return found[0]
    if found:
        where = ", ".join(_relative(f, roots) for f in found)
        raise ToolError(f"{path!r} names {len(found)} notes ({where}); give the path")
    raise ToolError(f"no note at {path!r} in the note folders")


def _relative(file: Path, roots: Sequence[Path]) -> str:
    root = next(r for r in roots if file.is_relative_to(r))
    return file.relative_to(root).as_posix()


def read_note_tool(
    roots: Sequence[Path] | Callable[[], Sequence[Path]],
    *,
    max_bytes: int = 2_000_000,
    rule: NoteRule | None = None,
) -> Tool:
    """The read-only note reader bound to these root folders, or to a function that names them
    when the tool is first called (so listing tools never opens the index); `rule` says which files
    are notes, as it does for ingest."""
    roots_of: Callable[[], Sequence[Path]] = roots if callable(roots) else lambda: tuple(roots)

    @tool(read_only=True)
    def read_note(path: Annotated[str, Field(min_length=1)]) -> str:
        """Read one note in full, by the path a search result gave as its source.

        Args:
            path: The note's path as a search result gave it as its source, or the note's name.
        """
        note = resolve_note(path, roots_of(), rule)
        if note.stat().st_size > max_bytes:
            raise ToolError(f"{path!r} is larger than {max_bytes} bytes; search it instead")
        try:
            return note.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ToolError(f"{path!r} is not a UTF-8 text note") from exc

    return read_note
