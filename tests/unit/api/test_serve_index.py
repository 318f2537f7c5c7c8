"""The embedded index is shared with the shell: `llmorch ingest` while the server answers
searches works on both sides, and the server finds the new note without a restart."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from scripted_llm import ScriptedLlm
from served import LLMORCH, ingest, serving, write_config


def test_ingest_while_serving_searches_then_the_new_note_is_found(
    tmp_path: Path, vault: Path, model: ScriptedLlm
) -> None:
    own_vault = tmp_path / "notes"
    own_vault.mkdir()
    for note in vault.iterdir():
        (own_vault / note.name).write_text(note.read_text())
    with serving(write_config(tmp_path, own_vault, model.base_url)) as server:
        ingest(server.env)
        statuses: list[int] = []
        stop = threading.Event()

        def search_until_stopped() -> None:
            while not stop.is_set() and len(statuses) < 500:
                statuses.append(server.post_json("/api/search", {"query": "backup"}).status)

        searcher = threading.Thread(target=search_until_stopped)
        searcher.start()
        try:
            (own_vault / "Zebrafish.md").write_text("# Zebrafish\n\nThe tank needs a heater.\n")
            done = subprocess.run(
                [str(LLMORCH), "ingest", "--json"],
                env=server.env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            stop.set()
            searcher.join()
        assert done.returncode == 0, done.stderr
        assert "Zebrafish.md" in done.stdout
        assert statuses and set(statuses) == {200}
        found = server.post_json("/api/search", {"query": "zebrafish heater", "limit": 1})
        assert [h["path"] for h in found.json()["hits"]] == ["Zebrafish.md"]


def test_an_idle_server_lets_ingest_in(tmp_path: Path, vault: Path, model: ScriptedLlm) -> None:
    with serving(write_config(tmp_path, vault, model.base_url)) as server:
        ingest(server.env)
        assert server.post_json("/api/search", {"query": "backup"}).status == 200
        ingest(server.env)  # the server holds the index open; it must give it up unprompted
