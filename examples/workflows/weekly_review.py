"""A weekly review: the notes tagged #project that changed this week, as a status table.

A user workflow written only against llmorch's public API. Put this file (or its folder) in
`workflows.paths` and run it:

    llmorch run weekly_review                 # #project notes changed in the last 7 days
    llmorch run weekly_review tag=client days=14 --output ~/vault/Reviews/this-week.md
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from llmorch.ingest.markdown import parse_note, with_parent_tags
from llmorch.pipeline import Pipeline, step
from llmorch.workflows import Workflow, WorkflowContext

_OPEN_TASK = re.compile(r"^\s*[-*] \[ \]", re.M)
_DONE_TASK = re.compile(r"^\s*[-*] \[[xX]\]", re.M)


class ReviewRequest(BaseModel):
    tag: str = Field(default="project", description="Review the notes with this tag.")
    days: int = Field(default=7, ge=1, le=366, description="How far back a change counts.")


class ProjectStatus(BaseModel):
    note: str = Field(description="The note's file name, which a [[wikilink]] finds.")
    changed: str
    open_tasks: int
    done_tasks: int
    status: str


class WeeklyReview(BaseModel):
    since: str
    projects: list[ProjectStatus]
    table: str = Field(description="The projects as a Markdown table, for a note.")


@dataclass(frozen=True)
class ChangedNote:
    path: Path
    changed: datetime
    text: str


@dataclass(frozen=True)
class Changed:
    request: ReviewRequest
    since: datetime
    notes: list[ChangedNote]


@step(name="find_changed")
async def find_changed(request: ReviewRequest, ctx: WorkflowContext) -> Changed:
    """Every markdown note under the note folders modified within the window, newest first."""
    since = datetime.now(UTC) - timedelta(days=request.days)
    found: list[ChangedNote] = []
    for root in ctx.runtime.note_roots():
        for path in root.rglob("*.md"):
            changed = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if changed >= since:
                found.append(ChangedNote(path, changed, path.read_text(encoding="utf-8")))
    return Changed(request, since, sorted(found, key=lambda n: n.changed, reverse=True))


@step(name="tabulate")
async def tabulate(changed: Changed, ctx: WorkflowContext) -> WeeklyReview:
    """Keep the notes with the tag (nested tags count for their parent) and count their tasks."""
    tag = changed.request.tag.lstrip("#").lower()
    rows: list[ProjectStatus] = []
    for found in changed.notes:
        note = parse_note(found.text, found.path.stem)
        if tag not in with_parent_tags(note.tags):
            continue
        open_tasks = len(_OPEN_TASK.findall(note.body))
        done_tasks = len(_DONE_TASK.findall(note.body))
        rows.append(
            ProjectStatus(
                note=found.path.stem,
                changed=found.changed.date().isoformat(),
                open_tasks=open_tasks,
                done_tasks=done_tasks,
                status=_status(open_tasks, done_tasks),
            )
        )
    return WeeklyReview(since=changed.since.date().isoformat(), projects=rows, table=_table(rows))


def _status(open_tasks: int, done_tasks: int) -> str:
    if open_tasks == 0:
        return "done" if done_tasks else "no tasks"
    return "in progress" if done_tasks else "not started"


def _table(rows: list[ProjectStatus]) -> str:
    if not rows:
        return "No project notes changed in this window."
    lines = ["| project | changed | open | done | status |", "|---|---|---|---|---|"]
    lines += [
        f"| [[{r.note}]] | {r.changed} | {r.open_tasks} | {r.done_tasks} | {r.status} |"
        for r in rows
    ]
    return "\n".join(lines)


WEEKLY_REVIEW = Workflow(
    name="weekly_review",
    description="The notes tagged #project changed this week, as a status table.",
    input_model=ReviewRequest,
    output_model=WeeklyReview,
    pipeline=Pipeline.create(find_changed, context=WorkflowContext, name="weekly_review").pipe(
        tabulate
    ),
    text_field="table",
)
