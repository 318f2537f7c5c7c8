"""`digest` covers exactly the notes changed in its window (by default since the last successful
digest, from a real runs.db), by folder, with links back; `extract` returns JSON that validates against the schema it was given."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from workflow_kit import ScriptedRuntime, context

from llmorch.config import RunsSettings, Settings
from llmorch.errors import LlmorchError, SchemaError, StructuredOutputError, UsageError
from llmorch.llm.testing import ModelCall, ScriptedModel
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.runs.store import RunFilter, RunStore
from llmorch.workflows.builtin import digest, extract
from llmorch.workflows.builtin.digest import DigestInput, DigestOutput
from llmorch.workflows.builtin.extract import ExtractInput
from llmorch.workflows.execute import run_workflow

HOUR = 3600.0


def note(root: Path, rel: str, age_s: float) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {path.stem}\n\nWhat happened in {path.stem}.\n")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))


def titles(call: ModelCall) -> str:
    return "Changed: " + ", ".join(
        line[2:] for line in call.last_user_text().splitlines() if line.startswith("# ")
    )


async def run_digest(root: Path, since: str, model: ScriptedModel) -> DigestOutput:
    ctx = context(model, roots=[root])
    return (await digest.PIPELINE.execute(DigestInput(since=since), ctx)).unwrap()


async def test_digest_covers_only_notes_changed_in_the_window(tmp_path: Path) -> None:
    note(tmp_path, "work/standup.md", age_s=2 * HOUR)
    note(tmp_path, "work/old plan.md", age_s=30 * HOUR)
    note(tmp_path, "home/garden.md", age_s=10 * HOUR)
    note(tmp_path, "inbox.md", age_s=0.5 * HOUR)
    note(tmp_path, "home/ancient.md", age_s=24 * 10 * HOUR)
    (tmp_path / "photo.png").write_bytes(b"png")

    out = await run_digest(tmp_path, "1d", ScriptedModel(titles))
    assert out.notes == ["inbox", "home/garden", "work/standup"]
    assert "## Top level\n\nChanged: inbox\n\n- [[inbox]]" in out.markdown
    assert "## home\n\nChanged: garden\n\n- [[home/garden]]" in out.markdown
    assert "## work\n\nChanged: standup\n\n- [[work/standup]]" in out.markdown

    wider = await run_digest(tmp_path, "2d", ScriptedModel(titles))
    assert "work/old plan" in wider.notes and "home/ancient" not in wider.notes
    narrow = await run_digest(tmp_path, "1h", ScriptedModel(titles))
    assert narrow.notes == ["inbox"]


async def test_digest_of_a_quiet_window_says_so_without_the_model(tmp_path: Path) -> None:
    note(tmp_path, "old.md", age_s=48 * HOUR)
    model = ScriptedModel([])
    out = await run_digest(tmp_path, "12h", model)
    assert out.notes == [] and model.calls == []
    assert "No notes were created or changed" in out.markdown
    assert abs(time.time() - 12 * HOUR - out.since.timestamp()) < 60


def test_digest_window_must_be_a_duration() -> None:
    with pytest.raises(ValueError, match="since"):
        DigestInput(since="yesterday")


async def test_digest_without_note_folders_is_an_input_error() -> None:
    ctx = context(ScriptedModel([]))
    with pytest.raises(UsageError, match="no note folders"):
        (await digest.PIPELINE.execute(DigestInput(), ctx)).unwrap()


async def test_extract_returns_json_that_validates_against_a_field_list() -> None:
    model = ScriptedModel(['{"title": "Buy milk", "due": "2026-12-01", "priority": "2"}'])
    request = ExtractInput.model_validate(
        {"text": "Buy milk by Dec 1st, fairly urgent", "schema": "title, due: date, priority: int"}
    )
    out = (await extract.WORKFLOW.pipeline.execute(request, context(model))).unwrap()
    assert out.data == {"title": "Buy milk", "due": "2026-12-01", "priority": 2}
    assert model.calls[0].last_user_text().startswith("Answer with one JSON object")


async def test_extract_fails_naming_the_fields_that_never_validated() -> None:
    model = ScriptedModel(['{"title": "Buy milk"}'] * 3)
    request = ExtractInput.model_validate({"text": "Buy milk", "schema": "title, priority: int"})
    with pytest.raises(StructuredOutputError, match="invalid: priority"):
        (await extract.WORKFLOW.pipeline.execute(request, context(model))).unwrap()


async def test_extract_with_an_invalid_schema_is_a_usage_error() -> None:
    request = ExtractInput.model_validate({"text": "x", "schema": "title: colour"})
    with pytest.raises(SchemaError) as caught:
        (await extract.WORKFLOW.pipeline.execute(request, context(ScriptedModel([])))).unwrap()
    assert caught.value.exit_code == 2


@dataclass
class RecordedRuntime(ScriptedRuntime):
    """A runtime run_workflow accepts: the digest never searches, it reads the folders."""

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return []


async def recorded_digest(root: Path, settings: Settings, **given: str) -> DigestOutput:
    """The digest through run_workflow, so the run lands in the real runs.db (state dir)."""
    runtime = RecordedRuntime(ScriptedModel(titles), [root], settings)
    return (await run_workflow(digest.WORKFLOW, given, runtime, trigger="timer")).output


async def test_digest_without_since_starts_where_the_last_successful_digest_started(
    tmp_path: Path,
) -> None:
    note(tmp_path, "yesterday.md", age_s=3 * HOUR)
    note(tmp_path, "last week.md", age_s=30 * HOUR)
    first = await recorded_digest(tmp_path, Settings())
    assert first.notes == ["yesterday"], "with no earlier digest the window is one day"

    note(tmp_path, "today.md", age_s=0)
    second = await recorded_digest(tmp_path, Settings())
    assert second.notes == ["today"]
    assert second.since == first_run_start()

    assert (await recorded_digest(tmp_path, Settings(), since="1d")).notes == [
        "today",
        "yesterday",
    ], "an explicit window still wins"
    off = Settings(runs=RunsSettings(enabled=False))
    assert (await recorded_digest(tmp_path, off)).notes == ["today", "yesterday"]


async def test_digest_window_follows_only_successful_digests_of_the_same_folder(
    tmp_path: Path,
) -> None:
    note(tmp_path, "work/plan.md", age_s=3 * HOUR)
    note(tmp_path, "home/garden.md", age_s=2 * HOUR)
    await recorded_digest(tmp_path, Settings(), folder="work")
    failing = RecordedRuntime(ScriptedModel([]), [tmp_path], Settings())  # no answer: it fails
    with pytest.raises(LlmorchError):
        await run_workflow(digest.WORKFLOW, {}, failing, trigger="timer")

    every_folder = await recorded_digest(tmp_path, Settings())
    assert every_folder.notes == ["home/garden", "work/plan"]
    assert (await recorded_digest(tmp_path, Settings(), folder="work")).notes == []


def first_run_start() -> datetime:
    (oldest, *_) = sorted(RunStore().list(RunFilter(workflow="digest")), key=lambda r: r["id"])
    return datetime.fromtimestamp(oldest["started_at"], UTC)
