"""Ingest into a real Qdrant Edge shard: every good note indexed, every bad file reported, re-runs
touch only what changed, and interrupted or concurrent runs never leave a broken index."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tricky_vault import Vault, bump_mtime

from llmorch.config import Settings
from llmorch.errors import IngestError, RetrievalError
from llmorch.ingest.sync import IngestProgress, ingest
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.hits import SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase
from llmorch.retrieval.schema import FileRecord


def stored(settings: Settings) -> dict[str, FileRecord]:
    store = EdgeStore.open(settings.store.edge_path(), settings.store.collection)
    try:
        return {path: record for (_, path), record in store.manifest().items()}
    finally:
        store.close()


async def search(settings: Settings, query: str) -> list[str]:
    kb = KnowledgeBase.open(settings)
    try:
        return [hit.path for hit in await kb.search(SearchRequest(query=query, limit=10))]
    finally:
        kb.close()


async def test_tricky_vault_indexes_every_good_note_and_reports_every_bad_file(
    vault: Vault, settings: Settings
) -> None:
    summary = await ingest([vault.root], settings)

    assert sorted(Path(p).relative_to(vault.root).as_posix() for p in summary.added) == vault.good
    reasons = {Path(s.path).relative_to(vault.root).as_posix(): s.reason for s in summary.skipped}
    assert set(reasons) == set(vault.bad)
    for rel, word in vault.bad.items():
        assert word in reasons[rel], (rel, reasons[rel])
    assert [Path(w.path).name for w in summary.warnings] == ["Broken YAML.md"]
    assert "YAML" in summary.warnings[0].reason

    records = stored(settings)
    assert sorted(records) == vault.good
    assert all(r.complete for r in records.values())
    assert summary.chunks_total == summary.chunks_written == sum(r.points for r in records.values())

    assert await search(settings, "zeppelin") == ["sub folder/Broken YAML.md"]  # not .obsidian etc.
    assert await search(settings, "quokka") == ["deep/er/target.md"]

    again = await ingest([vault.root], settings)
    assert not again.changed
    assert again.unchanged == len(vault.good)
    assert again.chunks_written == 0
    assert stored(settings) == records


async def test_frontmatter_tags_inline_tags_and_title_reach_the_index(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    kb = KnowledgeBase.open(settings)
    try:
        home = await kb.search(
            SearchRequest(query="welcome", tags=["meta", "daily"], tag_mode="all")
        )
        infra = await kb.search(SearchRequest(query="router addresses", tags=["infra/storage"]))
        code_tag = await kb.search(SearchRequest(query="ip addr", tags=["notatag"]))
    finally:
        kb.close()
    assert [h.path for h in home] == ["Home.md"]
    assert home[0].title == "Vault home"
    assert set(home[0].tags) == {"index", "meta", "daily"}
    assert infra[0].path == "Projects/Homelab.md"
    assert infra[0].heading == "Homelab > Network"
    assert infra[0].snippet
    assert code_tag == []


async def test_changed_file_replaces_its_chunks_without_leaving_stale_ones(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    long_note = "# Recipes\n\n" + "\n\n".join(
        f"Step {i}: whisk the batter well." for i in range(30)
    )
    (vault.root / "Recipes.md").write_text(long_note, encoding="utf-8")
    grown = await ingest([vault.root], settings)
    assert [Path(p).name for p in grown.updated] == ["Recipes.md"]
    assert stored(settings)["Recipes.md"].chunk_count > 3

    (vault.root / "Recipes.md").write_text("Only crumpets now.\n", encoding="utf-8")
    shrunk = await ingest([vault.root], settings)
    assert [Path(p).name for p in shrunk.updated] == ["Recipes.md"]
    record = stored(settings)["Recipes.md"]
    assert (record.chunk_count, record.points) == (1, 1)
    assert await search(settings, "whisk batter") == []
    assert await search(settings, "crumpets") == ["Recipes.md"]


async def test_deleted_file_chunks_are_removed(vault: Vault, settings: Settings) -> None:
    await ingest([vault.root], settings)
    (vault.root / "Recipes.md").unlink()
    summary = await ingest([vault.root], settings)
    assert [Path(p).name for p in summary.deleted] == ["Recipes.md"]
    assert "Recipes.md" not in stored(settings)
    assert await search(settings, "pancakes") == []


async def test_touched_but_unchanged_file_is_hashed_once_then_skipped_by_stat(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    bump_mtime(vault.root / "Recipes.md")
    summary = await ingest([vault.root], settings)
    assert not summary.changed
    assert stored(settings)["Recipes.md"].mtime_ns == (vault.root / "Recipes.md").stat().st_mtime_ns


async def test_file_turned_binary_is_skipped_and_its_old_chunks_removed(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    (vault.root / "Recipes.md").write_bytes(b"\x00\x01\x02 now binary")
    summary = await ingest([vault.root], settings)
    assert [Path(p).name for p in summary.deleted] == ["Recipes.md"]
    assert "Recipes.md" not in stored(settings)


async def test_dry_run_reports_what_would_change_and_writes_nothing(
    vault: Vault, settings: Settings
) -> None:
    first = await ingest([vault.root], settings, dry_run=True)
    assert len(first.added) == len(vault.good)
    assert first.chunks_written == 0
    assert not settings.store.edge_path().exists()  # not even the folder or its lock file

    await ingest([vault.root], settings)
    before = stored(settings)
    (vault.root / "Recipes.md").unlink()
    (vault.root / "New.md").write_text("A brand new note.\n", encoding="utf-8")
    preview = await ingest([vault.root], settings, dry_run=True)
    assert [Path(p).name for p in preview.added] == ["New.md"]
    assert [Path(p).name for p in preview.deleted] == ["Recipes.md"]
    assert stored(settings) == before


async def test_full_rebuild_rewrites_everything(vault: Vault, settings: Settings) -> None:
    await ingest([vault.root], settings)
    summary = await ingest([vault.root], settings, full=True)
    assert len(summary.added) == len(vault.good)
    assert summary.chunks_total == summary.chunks_written


async def test_changed_chunk_settings_rechunk_every_file_without_full(
    vault: Vault, settings: Settings
) -> None:
    first = await ingest([vault.root], settings)
    settings.ingest.chunk_size, settings.ingest.chunk_overlap = 40, 10
    rechunked = await ingest([vault.root], settings)
    assert (rechunked.added, rechunked.unchanged) == ([], 0)
    assert len(rechunked.updated) == len(vault.good)
    assert rechunked.chunks_total > first.chunks_total
    assert not (await ingest([vault.root], settings)).changed


async def test_ingesting_one_file_never_deletes_its_neighbours(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    summary = await ingest([vault.root / "Recipes.md"], settings)
    assert summary.deleted == []
    assert sorted(stored(settings)) == vault.good


async def test_one_file_in_a_subfolder_of_an_indexed_folder_is_updated_not_duplicated(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    target = vault.root / "deep/er/target.md"
    target.write_text("A note two folders down about a quokka and a wombat.\n", "utf-8")
    summary = await ingest([target], settings)
    assert (summary.added, summary.updated) == ([], [str(target)])
    assert sorted(stored(settings)) == vault.good
    assert await search(settings, "quokka") == ["deep/er/target.md"]
    assert not (await ingest([vault.root], settings)).changed


async def test_a_subfolder_of_an_indexed_folder_is_synced_in_place_not_duplicated(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    (vault.root / "deep/er/target.md").unlink()
    (vault.root / "deep/new.md").write_text("A new note about a wombat.\n", "utf-8")
    summary = await ingest([vault.root / "deep"], settings)
    assert summary.added == [str(vault.root / "deep/new.md")]
    assert summary.deleted == [str(vault.root / "deep/er/target.md")]
    expected = {*vault.good, "deep/new.md"} - {"deep/er/target.md"}
    assert sorted(stored(settings)) == sorted(expected)
    assert await search(settings, "wombat") == ["deep/new.md"]
    assert not (await ingest([vault.root], settings)).changed


async def test_indexing_the_enclosing_folder_later_replaces_the_subfolder_copies(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root / "deep"], settings)
    await ingest([vault.root], settings)
    store = EdgeStore.open(settings.store.edge_path(), settings.store.collection)
    try:
        keys = sorted(store.manifest())
    finally:
        store.close()
    assert keys == [(str(vault.root), rel) for rel in vault.good]
    assert await search(settings, "quokka") == ["deep/er/target.md"]


async def test_one_file_under_a_configured_folder_gets_the_path_the_folder_would_give(
    vault: Vault, settings: Settings
) -> None:
    settings.ingest.paths = [vault.root]
    await ingest([vault.root / "deep/er/target.md"], settings)
    assert list(stored(settings)) == ["deep/er/target.md"]
    summary = await ingest([], settings)
    assert summary.unchanged == 1 and summary.deleted == []


async def test_progress_events_count_every_file_up_to_the_total(
    vault: Vault, settings: Settings
) -> None:
    events: list[IngestProgress] = []
    await ingest([vault.root], settings, on_progress=events.append)
    assert [e.done for e in events] == list(range(1, len(events) + 1))
    assert {e.total for e in events} == {len(events)}
    assert {e.action for e in events} >= {"added", "skipped"}


async def test_missing_source_path_is_an_ingest_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file or folder"):
        await ingest([tmp_path / "nope"], settings)


async def test_second_ingest_on_the_same_index_is_told_it_is_busy(
    vault: Vault, settings: Settings
) -> None:
    await ingest([vault.root], settings)
    holder = EdgeStore.open(settings.store.edge_path(), "notes")  # e.g. another ingest running
    try:
        with pytest.raises(RetrievalError, match="busy"):
            await ingest([vault.root], settings)
    finally:
        holder.close()
    assert not (await ingest([vault.root], settings)).changed


async def test_interrupted_ingest_leaves_index_consistent(
    vault: Vault, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = vault.root / "big"
    for i in range(60):
        (big / f"n{i:02}.md").parent.mkdir(exist_ok=True)
        (big / f"n{i:02}.md").write_text(f"# Note {i}\n\n" + f"alpha beta {i}. " * 40, "utf-8")
    monkeypatch.setattr("llmorch.ingest.sync.BATCH_CHUNKS", 8)

    def interrupt_midway(event: IngestProgress) -> None:
        if event.done == 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await ingest([vault.root], settings, on_progress=interrupt_midway)
    partial = stored(settings)
    assert 0 < len(partial) < len(vault.good) + 60
    assert all(r.complete for r in partial.values())

    finished = await ingest([vault.root], settings)
    assert finished.added and not finished.updated
    records = stored(settings)
    assert len(records) == len(vault.good) + 60
    assert all(r.complete for r in records.values())
    assert not (await ingest([vault.root], settings)).changed


KILLED_RUN = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    import llmorch.ingest.sync as sync
    from llmorch.config import IngestSettings, Settings, StoreSettings

    sync.BATCH_CHUNKS = 4
    settings = Settings(store=StoreSettings(path=Path(sys.argv[2])),
                        ingest=IngestSettings(chunk_size=200, chunk_overlap=40))

    def report(event):
        print(event.done, flush=True)

    asyncio.run(sync.ingest([Path(sys.argv[1])], settings, on_progress=report))
    """
)


def test_ingest_killed_with_sigkill_is_completed_by_the_next_run(
    tmp_path: Path, settings: Settings
) -> None:
    notes = tmp_path / "many"
    notes.mkdir()
    for i in range(400):
        (notes / f"n{i:03}.md").write_text(f"# N{i}\n\n" + f"gamma delta {i}. " * 30, "utf-8")
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(notes), str(settings.store.edge_path())],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert child.stdout is not None
    for line in child.stdout:
        if int(line) >= 100:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    finished = asyncio.run(ingest([notes], settings))
    assert finished.added, "the killed run should have left work for this one"
    records = stored(settings)
    assert len(records) == 400
    assert all(r.complete for r in records.values())
    assert not asyncio.run(ingest([notes], settings)).changed


INTERRUPTED_RUN = textwrap.dedent(
    """
    import asyncio, signal, sys
    from pathlib import Path
    import llmorch.ingest.sync as sync
    from llmorch.config import Settings, StoreSettings

    sync.BATCH_CHUNKS = 4
    settings = Settings(store=StoreSettings(path=Path(sys.argv[2])))

    def report(event):
        print(event.done, flush=True)
        if event.done == 50:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends

    asyncio.run(sync.ingest([Path(sys.argv[1])], settings, on_progress=report))
    """
)


def test_ctrl_c_stops_an_ingest_promptly_and_the_next_run_finishes_it(
    tmp_path: Path, settings: Settings
) -> None:
    notes = tmp_path / "many"
    notes.mkdir()
    for i in range(300):
        (notes / f"n{i:03}.md").write_text(f"# N{i}\n\n" + f"gamma delta {i}. " * 30, "utf-8")
    child = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_RUN, str(notes), str(settings.store.edge_path())],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        check=False,
    )
    assert "KeyboardInterrupt" in child.stderr
    assert int(child.stdout.split()[-1]) <= 51, "Ctrl-C was ignored until the run ended"

    finished = asyncio.run(ingest([notes], settings))
    assert len(finished.added) >= 249
    records = stored(settings)
    assert len(records) == 300
    assert all(r.complete for r in records.values())


def test_ingest_is_usable_from_plain_sync_code(vault: Vault, settings: Settings) -> None:
    summary = asyncio.run(ingest([vault.root], settings))
    assert summary.collection == "notes"


async def test_without_paths_the_configured_ingest_paths_are_used(
    vault: Vault, settings: Settings
) -> None:
    with pytest.raises(IngestError, match="nothing to ingest"):
        await ingest([], settings)
    settings.ingest.paths = [vault.root]
    assert len((await ingest([], settings)).added) == len(vault.good)
