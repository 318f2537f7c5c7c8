"""Finding and safely reading the files to index: include/exclude globs, folders never worth indexing,
and every way a file can be unreadable turned into a skip reason instead of a crash."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pathspec

from llmorch.errors import IngestError
from llmorch.ingest.note_rule import NoteRule, is_hidden

_BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class SourceFile:
    root: Path
    rel: str
    mtime_ns: int
    size: int

    @property
    def path(self) -> Path:
        return self.root / self.rel


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class Scan:
    """One source argument: its files, what was skipped, and which stored files it is the owner of."""

    root: Path
    files: list[SourceFile] = field(default_factory=list[SourceFile])
    skipped: list[Skipped] = field(default_factory=list[Skipped])
    only: str | None = None
    """Set when the source was one file: deletions then concern that file alone, not its folder."""
    under: str | None = None
    """Set when the source folder lies inside the root: deletions stay below that folder."""

    def owns(self, rel: str) -> bool:
        if self.only is not None:
            return rel == self.only
        return self.under is None or rel.startswith(self.under + "/")

    def rerooted(self, roots: Iterable[Path]) -> Scan:
        """This scan moved to the deepest of `roots` above it, so its files keep the (root, path)
        their enclosing folder's ingest gives them instead of being indexed twice."""
        holders = [r for r in roots if r in self.root.parents]
        if not holders:
            return self
        root = max(holders, key=lambda r: len(r.parts))
        under = self.root.relative_to(root).as_posix()
        files = [replace(f, root=root, rel=f"{under}/{f.rel}") for f in self.files]
        only = f"{under}/{self.only}" if self.only is not None else None
        return Scan(root=root, files=files, skipped=self.skipped, only=only, under=under)


class SkipFile(Exception):
    """A file that cannot be indexed; the message is the reason shown in the summary."""


def scan_source(
    source: Path, *, include: list[str], exclude: list[str], max_file_bytes: int
) -> Scan:
    """Walk a folder (or take one file), keeping the notes by the NoteRule and recording why every
    other file that matched the globs was skipped. A file named on its own is judged in its folder."""
    if not source.exists():
        raise IngestError(f"no such file or folder: {source}")
    rule = NoteRule(include, exclude)
    if source.is_file():
        named = source.absolute()
        scan = Scan(root=named.parent.resolve(), only=named.name)
        _add_file(scan, named.name, rule, max_file_bytes)
        return scan
    scan = Scan(root=source.resolve())
    included = pathspec.GitIgnoreSpec.from_lines(include)
    for rel in _walk(scan, pathspec.GitIgnoreSpec.from_lines(exclude)):
        if included.match_file(rel):
            _add_file(scan, rel, rule, max_file_bytes)
    return scan


def read_source(file: SourceFile, max_file_bytes: int) -> bytes:
    """The file's bytes, or SkipFile with a reason a user can act on."""
    try:
        with file.path.open("rb") as handle:
            data = handle.read(max_file_bytes + 1)
    except OSError as exc:
        raise SkipFile(_os_reason(exc)) from exc
    if len(data) > max_file_bytes:
        raise SkipFile(f"larger than ingest.max_file_bytes ({max_file_bytes} bytes)")
    if not data.strip():
        raise SkipFile("empty file")
    if b"\0" in data[:_BINARY_SNIFF_BYTES]:
        raise SkipFile("binary file")
    return data


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkipFile(f"not valid UTF-8 (byte {exc.start})") from exc


def _walk(scan: Scan, excluded: pathspec.GitIgnoreSpec) -> list[str]:
    """Relative POSIX paths of every file under the root, following folder symlinks that stay inside
    it, without looping; hidden folders and files are passed over."""
    root = scan.root
    seen_dirs = {_identity(root)}
    found: list[str] = []

    def on_error(exc: OSError) -> None:
        scan.skipped.append(Skipped(str(exc.filename), _os_reason(exc)))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        here = Path(dirpath)
        kept: list[str] = []
        for name in sorted(dirnames):
            full = here / name
            rel = full.relative_to(root).as_posix()
            if is_hidden(name) or excluded.match_file(rel + "/"):
                continue
            if not full.resolve().is_relative_to(root):
                scan.skipped.append(Skipped(str(full), "symlink leads outside the folder"))
                continue
            try:
                identity = _identity(full)
            except OSError as exc:
                scan.skipped.append(Skipped(str(full), _os_reason(exc)))
                continue
            if identity in seen_dirs:
                scan.skipped.append(Skipped(str(full), "symlink loop (folder already indexed)"))
                continue
            seen_dirs.add(identity)
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            rel = (here / name).relative_to(root).as_posix()
            if not is_hidden(name) and not excluded.match_file(rel):
                found.append(rel)
    return found


def _add_file(scan: Scan, rel: str, rule: NoteRule, max_file_bytes: int) -> None:
    full = scan.root / rel
    try:
        st = full.stat()
    except OSError as exc:
        scan.skipped.append(Skipped(str(full), _os_reason(exc)))
        return
    refusal = rule.refusal(full, [scan.root])
    if refusal is not None:
        scan.skipped.append(Skipped(str(full), refusal.reason))
    elif not full.is_file():
        scan.skipped.append(Skipped(str(full), "not a regular file"))
    elif st.st_size > max_file_bytes:
        reason = f"larger than ingest.max_file_bytes ({st.st_size} > {max_file_bytes} bytes)"
        scan.skipped.append(Skipped(str(full), reason))
    elif st.st_size == 0:
        scan.skipped.append(Skipped(str(full), "empty file"))
    else:
        scan.files.append(SourceFile(scan.root, rel, st.st_mtime_ns, st.st_size))


def _identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "broken symlink or vanished file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"unreadable: {exc.strerror or exc}"
