"""Runs over HTTP: each request leaves a run record with its trigger and the caller's trace id,
`GET /api/runs/ID` shows it, and `?wait=false` starts a run the client follows there."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripted_llm import Reply, ScriptedLlm, echo_turns
from served import LLMORCH, Served, bearer, ingest, serving, serving_indexed, write_config

KEY = "runs-key-0123456789"
HOOK_SECRET = "runs-hook-token"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, vault: Path, model: ScriptedLlm
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("runs")
    hooks = {"phone": {"workflow": "qa", "secret": HOOK_SECRET, "auth": "bearer"}}
    config = write_config(home, vault, model.base_url, api_keys=[KEY], hooks=hooks)
    with serving_indexed(config) as server:
        yield server


def auth(key: str = KEY) -> dict[str, str]:
    return bearer(key)


def record(served: Served, run_id: str) -> dict[str, Any]:
    reply = served.request("GET", f"/api/runs/{run_id}", headers=auth())
    assert reply.status == 200, reply.body
    return reply.json()


def finished(served: Served, run_id: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = record(served, run_id)
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still {run['status']} after {timeout_s} s")


def test_a_workflow_run_is_recorded_with_trigger_http_and_the_callers_trace_id(
    served: Served,
) -> None:
    reply = served.post_json(
        "/api/workflows/qa/run",
        {"query": "when do backups run?"},
        auth() | {"traceparent": TRACEPARENT},
    )
    assert reply.status == 200, reply.body
    run = record(served, reply.json()["run_id"])
    assert (run["workflow"], run["trigger"], run["status"]) == ("qa", "http", "ok")
    assert run["trace_id"] == reply.json()["trace_id"] == TRACE_ID
    assert run["output"]["answer"].startswith("Turn 1")
    assert run["model_calls"] and run["steps"]


def test_the_record_is_what_runs_show_json_prints(served: Served) -> None:
    run_id = served.post_json("/api/query", {"query": "tomatoes?"}, auth()).json()["run_id"]
    shown = subprocess.run(
        [str(LLMORCH), "runs", "show", run_id, "--json"], env=served.env, capture_output=True
    )
    assert shown.returncode == 0, shown.stderr.decode()
    assert record(served, run_id) == json.loads(shown.stdout)


def test_a_query_and_a_chat_completion_each_leave_a_run_without_a_traceparent_too(
    served: Served,
) -> None:
    query = served.post_json("/api/query", {"query": "tomatoes?"}, auth()).json()
    chat = served.post_json(
        "/v1/chat/completions",
        {"model": "llmorch-qa", "messages": [{"role": "user", "content": "backups?"}]},
        auth(),
    ).json()
    for run_id, trace_id in (
        (query["run_id"], query["trace_id"]),
        (chat["llmorch"]["run_id"], chat["llmorch"]["trace_id"]),
    ):
        run = record(served, run_id)
        assert run["trigger"] == "http"
        assert run["trace_id"] == trace_id and len(trace_id) == 32


def test_a_webhook_run_is_recorded_with_trigger_webhook_and_the_callers_trace_id(
    served: Served,
) -> None:
    reply = served.post_json(
        "/hooks/phone", {"query": "tomatoes?"}, auth(HOOK_SECRET) | {"traceparent": TRACEPARENT}
    )
    assert reply.status == 200, reply.body
    run = record(served, reply.json()["run_id"])
    assert (run["trigger"], run["trace_id"]) == ("webhook", TRACE_ID)


def test_a_run_without_waiting_is_202_and_its_record_shows_the_result(
    served: Served, model: ScriptedLlm
) -> None:
    reply = served.post_json(
        "/api/workflows/qa/run?wait=false",
        {"query": "when do backups run?"},
        auth() | {"traceparent": TRACEPARENT},
    )
    assert reply.status == 202, reply.body
    body = reply.json()
    assert body["status_url"] == f"/api/runs/{body['run_id']}"
    run = finished(served, body["run_id"])
    assert (run["status"], run["trigger"], run["trace_id"]) == ("ok", "http", TRACE_ID)
    assert run["output"]["answer"].startswith("Turn 1")
    assert len(model.requests) == 1


def test_a_run_without_waiting_that_fails_says_why_in_its_record(
    served: Served, model: ScriptedLlm
) -> None:
    model.replies = [Reply(error_status=500)]
    reply = served.post_json("/api/workflows/qa/run?wait=false", {"query": "backups?"}, auth())
    assert reply.status == 202
    run = finished(served, reply.json()["run_id"])
    assert (run["status"], run["error_kind"]) == ("failed", "llm")


@pytest.mark.parametrize(
    ("path", "payload", "status", "kind"),
    [
        ("/api/workflows/qa/run?wait=false", {"query": ""}, 422, "usage"),
        ("/api/workflows/qa/run?wait=false", {"question": "x"}, 422, "usage"),
        ("/api/workflows/qa/run?wait=maybe", {"query": "x"}, 422, "invalid_request"),
        ("/api/workflows/nope/run?wait=false", {"query": "x"}, 404, "workflow_not_found"),
    ],
)
def test_bad_input_without_waiting_is_refused_before_anything_runs(
    served: Served, model: ScriptedLlm, path: str, payload: dict[str, str], status: int, kind: str
) -> None:
    reply = served.post_json(path, payload, auth())
    assert reply.status == status, reply.body
    assert reply.json()["error"]["type"] == kind
    assert model.requests == []


def test_an_unknown_run_is_a_404_json_error_and_runs_need_the_key(served: Served) -> None:
    missing = served.request("GET", "/api/runs/01JD3NOSUCHRUN0000000000000", headers=auth())
    assert missing.status == 404
    assert missing.json()["error"]["type"] == "run_not_found"
    run_id = served.post_json("/api/query", {"query": "tomatoes?"}, auth()).json()["run_id"]
    assert served.request("GET", f"/api/runs/{run_id}").status == 401


def test_sigterm_lets_a_run_started_without_waiting_finish(tmp_path: Path, vault: Path) -> None:
    def slow(body: dict[str, Any]) -> Reply:
        time.sleep(1.5)
        return echo_turns(body)

    with (
        ScriptedLlm(script=slow) as model,
        serving(write_config(tmp_path, vault, model.base_url)) as server,
    ):
        ingest(server.env)
        reply = server.post_json("/api/workflows/qa/run?wait=false", {"query": "backups?"})
        assert reply.status == 202
        while not model.requests:  # the model is answering: the run is in flight
            time.sleep(0.02)
        assert server.stop() == 0
        shown = subprocess.run(
            [str(LLMORCH), "runs", "show", reply.json()["run_id"], "--json"],
            env=server.env,
            capture_output=True,
        )
    assert shown.returncode == 0, shown.stderr.decode()
    run = json.loads(shown.stdout)
    assert run["status"] == "ok"
    assert run["output"]["answer"].startswith("Turn 1")


def test_without_run_records_a_run_without_waiting_is_refused(
    tmp_path: Path, vault: Path, model: ScriptedLlm
) -> None:
    config = write_config(tmp_path, vault, model.base_url)
    settings = yaml.safe_load(config.read_text())
    settings["runs"] = {"enabled": False}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with serving(config) as server:
        reply = server.post_json("/api/workflows/qa/run?wait=false", {"query": "backups?"})
    assert reply.status == 409
    assert "runs.enabled" in reply.json()["error"]["message"]
    assert model.requests == []
