"""`llmorch serve` in front of the real llama.cpp server, used by the official `openai` client as
Open WebUI or any OpenAI app would: answers carry their sources, streamed or not."""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import openai
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "api"))

from served import Served, free_port, ingest, serving

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.integration

NOTES = {
    "Backup strategy.md": (
        "# Backup strategy\n\n## Schedule\n\n"
        "Restic backs up the laptop every night at 02:30 to the NAS called bramble.\n"
    ),
    "Tea.md": "# Tea\n\nGreen tea steeps for two minutes at 80 degrees.\n",
}
QUESTION = "At what time does the nightly backup run?"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, llama_server: LlamaServer) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve-llm")
    vault = home / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, encoding="utf-8")
    config = home / "config.yaml"
    settings = {
        "llm": {"base_url": llama_server.base_url, "model": llama_server.model, "temperature": 0},
        "store": {"path": str(home / "qdrant")},
        "ingest": {"paths": [str(vault)]},
        "server": {"port": free_port()},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with serving(config) as server:
        ingest(server.env)
        yield server


def client(served: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=served.url + "/v1", api_key="unused", max_retries=0)


def test_openai_client_gets_an_answer_with_numbered_sources(served: Served) -> None:
    reply = client(served).chat.completions.create(
        model="llmorch-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    text = reply.choices[0].message.content or ""
    answer, _, sources = text.partition("\n\nSources:\n")
    assert answer.strip()
    assert sources.splitlines()[0] == "[1] Backup strategy.md#Backup strategy > Schedule"
    assert reply.usage is not None and reply.usage.total_tokens > 0
    assert reply.model_extra is not None
    assert reply.model_extra["llmorch"]["sources"][0]["path"] == "Backup strategy.md"


def test_openai_client_streams_the_answer_then_the_sources(served: Served) -> None:
    stream = client(served).chat.completions.create(
        model="llmorch-qa",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    finish: list[str | None] = []
    for chunk in stream:
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish.append(choice.finish_reason)
    text = "".join(pieces)
    assert len([p for p in pieces if p]) > 2  # it arrived in pieces, not at once
    assert "\n\nSources:\n[1] Backup strategy.md" in text
    assert finish[-1] == "stop"


def test_api_query_answers_from_the_real_model(served: Served) -> None:
    reply = served.post_json("/api/query", {"query": QUESTION, "limit": 2})
    assert reply.status == 200
    body = reply.json()
    assert body["response"].strip()
    assert body["sources"][0]["path"] == "Backup strategy.md"
    assert body["usage"]["total_tokens"] > 0


def test_sigterm_during_a_streamed_answer_ends_it_cleanly_and_exits_zero(
    tmp_path: Path, served: Served
) -> None:
    config = tmp_path / "config.yaml"
    settings = yaml.safe_load(Path(served.env["LLMORCH_CONFIG"]).read_text())
    settings["server"]["port"] = free_port()
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with serving(config) as server:
        body = {
            "model": "llmorch-qa",
            "stream": True,
            "messages": [{"role": "user", "content": QUESTION}],
        }
        request = urllib.request.Request(
            server.url + "/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            first = response.readline()
            assert first.startswith(b"data: ")
            os.kill(server.process.pid, signal.SIGTERM)
            rest = response.read().decode()
        assert rest.rstrip().endswith("data: [DONE]")
        assert server.process.wait(timeout=60) == 0
