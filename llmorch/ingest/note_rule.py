"""Which files are notes of a folder: one rule that ingest and read_note both apply, so nothing is
indexed that read_note would refuse, and no symlink carries a file from outside into the index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pathspec

NOTE_GLOBS = ("**/*.md", "**/*.markdown")
"""The default `ingest.include`: markdown notes."""


@dataclass(frozen=True)
class Refusal:
    """Why a file is not a note; `outside` when its real path leaves every note folder."""

    reason: str
    outside: bool = False


@dataclass(frozen=True)
class NoteRule:
    """A note is a file whose real path lies inside a note folder, in no hidden folder (a vault's
    `.git/config` or `.obsidian/` may hold tokens), matched by the include globs and by no exclude
    glob, under its own name and under the name its symlink points to."""

    include: Sequence[str] = NOTE_GLOBS
    exclude: Sequence[str] = field(default_factory=tuple[str, ...])

    @cached_property
    def _included(self) -> pathspec.GitIgnoreSpec:
        return pathspec.GitIgnoreSpec.from_lines(self.include)

    @cached_property
    def _excluded(self) -> pathspec.GitIgnoreSpec:
        return pathspec.GitIgnoreSpec.from_lines(self.exclude)

    def refusal(self, path: Path, roots: Sequence[Path]) -> Refusal | None:
        """None when `path` (as found, symlinks not yet followed) is a note of one of the resolved
        `roots`; else the reason it is not."""
        real = path.resolve()
        real_root = next((root for root in roots if real.is_relative_to(root)), None)
        if real_root is None:
            return Refusal("symlink leads outside the folder", outside=True)
        named_root = next((root for root in roots if path.is_relative_to(root)), real_root)
        for rel in (path.relative_to(named_root), real.relative_to(real_root)):
            if reason := self._refuse_relative(rel.as_posix()):
                return Refusal(reason)
        return None

    def _refuse_relative(self, rel: str) -> str | None:
        if any(is_hidden(part) for part in rel.split("/")):
            return "hidden file or folder"
        if not self._included.match_file(rel) or self._excluded.match_file(rel):
            return "not a note: not matched by ingest.include or excluded by ingest.exclude"
        return None


def is_hidden(name: str) -> bool:
    """A hidden file or folder holds no notes: walks skip it without listing it."""
    return name.startswith(".")
