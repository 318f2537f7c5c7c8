"""`digest`: the notes created or changed in a window, summarised by folder, linking back to each.

The morning brief a timer writes into the vault: a `## folder` section per folder, its summary,
then `[[wikilinks]]` to the notes it covers. Without `since` the window starts where the last
successful digest of the same folder started (from the run records), so a timer that missed a
day, or runs twice, neither skips nor repeats notes; with no such run it is one day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from llmorch.errors import UsageError
from llmorch.ingest.markdown import parse_note
from llmorch.llm.messages import SystemMessage, UserMessage
from llmorch.llm.stream import TextDelta
from llmorch.pipeline import Pipeline, step
from llmorch.runs.history import last_success_started_at
from llmorch.workflows.builtin.summarize import NOTE_SUFFIXES, budget_chars
from llmorch.workflows.definition import Workflow, WorkflowContext

if TYPE_CHECKING:
    from llmorch.config import RunsSettings

WORKFLOW_NAME = "digest"
MAX_NOTES = 200  # the most recently changed, so a bulk rename does not flood the brief
CONCURRENCY = 2
SUMMARY_TOKENS = 300
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


DEFAULT_WINDOW = "1d"
"""The window when `since` is unset and no earlier successful digest is recorded."""


class DigestInput(BaseModel):
    since: str | None = Field(
        default=None,
        pattern=r"^\s*\d+\s*[mhdw]\s*$",
        description="The window: minutes, hours, days or weeks, e.g. 30m, 12h, 1d, 1w; unset "
        "means since the last successful digest of this folder (else 1d).",
    )
    folder: str | None = Field(
        default=None, description="Only notes under this folder; unset means every note folder."
    )


class DigestOutput(BaseModel):
    markdown: str = Field(description="The digest, a section per folder with [[links]] to notes.")
    since: datetime = Field(description="Start of the window (UTC).")
    notes: list[str] = Field(description="The changed notes, as the wikilinks name them.")


@dataclass(frozen=True)
class ChangedNote:
    link: str  # the path under its note folder, without the suffix: what [[...]] resolves
    folder: str
    title: str
    body: str


@dataclass(frozen=True)
class Folder:
    since: datetime
    name: str
    notes: list[ChangedNote]


@dataclass(frozen=True)
class FolderDigest:
    folder: Folder
    summary: str


def window_start(since: str, now: datetime) -> datetime:
    """`now` less a window written as 30m, 12h, 1d or 1w."""
    match = _WINDOW.match(since)
    if match is None:
        raise UsageError(f"cannot read the window {since!r}", hint="write it as 30m, 12h, 1d or 1w")
    return now - timedelta(**{_UNITS[match[2]]: int(match[1])})


def digest_start(request: DigestInput, runs: RunsSettings, now: datetime) -> datetime:
    """Where the window starts: `since` back from now when given, else when the last successful
    digest of the same folder started, else DEFAULT_WINDOW back."""
    if request.since is not None:
        return window_start(request.since, now)
    last = last_success_started_at(
        WORKFLOW_NAME, runs, input_matches=lambda given: given.get("folder") == request.folder
    )
    if last is None:
        return window_start(DEFAULT_WINDOW, now)
    return datetime.fromtimestamp(last, UTC)


@step(name="changed")
async def changed(request: DigestInput, ctx: WorkflowContext) -> list[Folder]:
    """The notes changed in the window (newest MAX_NOTES), grouped by folder; one empty group
    when nothing changed, so the window still reaches the digest."""
    since = digest_start(request, ctx.runtime.settings.runs, datetime.now(UTC))
    cutoff = since.timestamp()
    found: list[tuple[float, Path, Path]] = []
    for root in _roots(request.folder, ctx):
        for file in root.rglob("*"):
            if file.suffix.lower() in NOTE_SUFFIXES and (mtime := _mtime(file)) >= cutoff:
                found.append((mtime, root, file))
    newest = sorted(found, key=lambda item: item[0], reverse=True)[:MAX_NOTES]
    read = (_changed_note(root, file) for _, root, file in newest)
    notes = sorted((note for note in read if note is not None), key=_by_folder)
    folders = [
        Folder(since, name, list(group)) for name, group in groupby(notes, key=lambda n: n.folder)
    ]
    return folders or [Folder(since, "", [])]


@step(name="summarise_folder")
async def summarise_folder(folder: Folder, ctx: WorkflowContext) -> FolderDigest:
    if not folder.notes:
        return FolderDigest(folder, "")
    budget = await budget_chars(ctx.runtime)
    share = max(200, budget // len(folder.notes))
    text = "\n\n".join(f"Note {n.title!r}:\n{n.body.strip()[:share]}" for n in folder.notes)
    messages = [
        SystemMessage(
            content="In two or three sentences, say what changed in these notes: what was "
            "decided, done or planned."
        ),
        UserMessage(content=text[:budget]),
    ]
    completion = await ctx.runtime.llm().complete(messages, max_tokens=SUMMARY_TOKENS)
    return FolderDigest(folder, (completion.message.content or "").strip())


@step(name="assemble")
async def assemble(digests: list[FolderDigest], ctx: WorkflowContext) -> DigestOutput:
    since = digests[0].folder.since
    digests = [d for d in digests if d.folder.notes]
    lines = [f"# Digest since {since:%Y-%m-%d %H:%M} UTC", ""]
    if not digests:
        lines.append("No notes were created or changed in this window.")
    for digest in digests:
        lines += [f"## {digest.folder.name or 'Top level'}", "", digest.summary, ""]
        lines += [f"- [[{note.link}]]" for note in digest.folder.notes] + [""]
    markdown = "\n".join(lines).rstrip() + "\n"
    if ctx.on_delta is not None:
        ctx.on_delta(TextDelta(markdown))
    links = [note.link for d in digests for note in d.folder.notes]
    return DigestOutput(markdown=markdown, since=since, notes=links)


def _roots(folder: str | None, ctx: WorkflowContext) -> list[Path]:
    roots = ctx.runtime.note_roots()
    if folder is None:
        if not roots:
            raise UsageError("no note folders are configured", hint="set ingest.paths")
        return roots
    given = Path(folder).expanduser()
    for candidate in [given, *(root / given for root in roots if not given.is_absolute())]:
        if candidate.is_dir():
            return [candidate]
    raise UsageError(f"no folder at {folder}")


def _mtime(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except OSError:
        return 0.0  # vanished or unreadable since the walk: not part of this digest


def _changed_note(root: Path, file: Path) -> ChangedNote | None:
    rel = file.relative_to(root)
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # vanished or unreadable since the walk: not part of this digest
    note = parse_note(text, file.stem)
    link = rel.with_suffix("").as_posix()
    folder = rel.parent.as_posix() if rel.parent != Path() else ""
    return ChangedNote(link, folder, note.title, note.body)


def _by_folder(note: ChangedNote) -> tuple[str, str]:
    return note.folder, note.link


PIPELINE = (
    Pipeline.create(changed, context=WorkflowContext, name="digest")
    .map(summarise_folder, concurrency=CONCURRENCY)
    .pipe(assemble)
)

WORKFLOW = Workflow(
    name=WORKFLOW_NAME,
    description="Summarise the notes changed since the last digest (or in a window, since: 1d) "
    "by folder, linking each note.",
    input_model=DigestInput,
    output_model=DigestOutput,
    pipeline=PIPELINE,
    text_field="markdown",
)
