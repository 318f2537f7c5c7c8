"""`llmorch serve` as a real process: every bad request gets its status and a JSON error, keys
are enforced, and the server stays up whatever it is sent."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_llm import Reply, ScriptedLlm
from served import LLMORCH, Served, free_port, ingest, serving, write_config

KEY = "test-key-0123456789"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, vault: Path, model: ScriptedLlm
) -> Iterator[Served]:
    """One server for the module: requests here must leave it as they found it."""
    home = tmp_path_factory.mktemp("served")
    config = write_config(home, vault, model.base_url, api_keys=[KEY], max_body_bytes=4096)
    with serving(config) as server:
        ingest(server.env)
        yield server


@pytest.fixture(autouse=True)
def fresh_script(model: ScriptedLlm) -> None:
    model.replies.clear()
    model.requests.clear()


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_query_answers_with_numbered_sources_and_usage(served: Served) -> None:
    reply = served.post_json("/api/query", {"query": "when do backups run?"}, auth())
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["response"].startswith("Turn 1")
    assert body["sources"][0]["path"] == "Backup strategy.md"
    assert body["sources"][0]["n"] == 1
    assert body["usage"]["total_tokens"] > 0


def test_search_returns_hits_without_a_model(served: Served) -> None:
    reply = served.post_json("/api/search", {"query": "tomatoes", "limit": 1}, auth())
    assert reply.status == 200
    assert [h["path"] for h in reply.json()["hits"]] == ["Garden.md"]


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "kind"),
    [
        ("/api/query", b"{not json", "application/json", 400, "invalid_json"),
        ("/api/query", b'{"query": 42}', "application/json", 422, "invalid_request"),
        ("/api/query", b"{}", "application/json", 422, "invalid_request"),
        ("/api/query", b'{"query": "x", "mode": "psychic"}', "application/json", 422, "invalid_request"),
        ("/api/query", b'{"query": "x", "colour": "red"}', "application/json", 422, "invalid_request"),
        ("/api/query", b'{"query": "' + b"x" * 5000 + b'"}', "application/json", 413, "body_too_large"),
        ("/api/query", b"query=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("/api/search", b'{"query": "x", "limit": -1}', "application/json", 422, "invalid_request"),
        ("/v1/chat/completions", b'{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}', "application/json", 404, "model_not_found"),
        ("/v1/chat/completions", b'{"model": "llmorch-qa", "messages": []}', "application/json", 422, "invalid_request"),
        ("/v1/chat/completions", b'{"model": "llmorch-qa", "messages": [{"role": "assistant", "content": "x"}]}', "application/json", 422, "invalid_request"),
        ("/api/nothing-here", b"{}", "application/json", 404, "not_found"),
    ],
)  # fmt: skip
def test_bad_requests_get_their_status_and_a_json_error(
    served: Served, path: str, body: bytes, content_type: str, status: int, kind: str
) -> None:
    reply = served.request("POST", path, body, {"Content-Type": content_type, **auth()})
    assert reply.status == status, reply.body
    error = reply.json()["error"]
    assert error["type"] == kind
    assert error["message"]
    assert "Traceback" not in reply.body.decode()
    assert served.request("GET", "/health").status == 200


def test_invalid_fields_are_each_named(served: Served) -> None:
    reply = served.post_json("/api/query", {"query": 1, "limit": "many"}, auth())
    fields = {d["field"] for d in reply.json()["error"]["details"]}
    assert fields == {"query", "limit"}


@pytest.mark.parametrize("headers", [{}, auth("wrong-key"), {"Authorization": "Basic abc"}])
def test_missing_or_wrong_key_is_401_and_nothing_runs(
    served: Served, model: ScriptedLlm, headers: dict[str, str]
) -> None:
    reply = served.post_json("/api/query", {"query": "backups?"}, headers)
    assert reply.status == 401
    assert reply.headers.get("www-authenticate") == "Bearer"
    assert reply.json()["error"]["type"] == "unauthorized"
    assert model.requests == []


def test_the_key_is_also_accepted_as_x_api_key_and_health_needs_none(served: Served) -> None:
    assert served.request("GET", "/v1/models", headers={"X-API-Key": KEY}).status == 200
    assert served.request("GET", "/health").status == 200
    assert served.request("GET", "/v1/models").status == 401


def test_a_5xx_from_the_model_server_is_a_502_and_the_server_stays_up(
    served: Served, model: ScriptedLlm
) -> None:
    model.replies = [Reply(error_status=500)]
    reply = served.post_json("/api/query", {"query": "backups?"}, auth())
    assert reply.status == 502
    assert reply.json()["error"]["type"] == "llm"
    assert served.post_json("/api/query", {"query": "backups?"}, auth()).status == 200


def test_cors_headers_are_absent_unless_configured(served: Served) -> None:
    reply = served.request("GET", "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in {k.lower() for k in reply.headers}


def test_sigterm_exits_zero(tmp_path: Path, vault: Path, model: ScriptedLlm) -> None:
    with serving(write_config(tmp_path, vault, model.base_url)) as server:
        assert server.stop() == 0


def test_refuses_to_bind_beyond_loopback_without_a_key(tmp_path: Path, vault: Path) -> None:
    config = write_config(tmp_path, vault, "http://127.0.0.1:9/v1")
    env = {"LLMORCH_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(LLMORCH), "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 3
    assert "without an API key" in done.stderr
    assert "Traceback" not in done.stderr


def test_ready_is_503_with_the_reason_when_the_model_server_is_down(
    tmp_path: Path, vault: Path
) -> None:
    config = write_config(tmp_path, vault, f"http://127.0.0.1:{free_port()}/v1")
    with serving(config) as server:
        ingest(server.env)
        reply = server.request("GET", "/ready")
        assert reply.status == 503
        problems = reply.json()["problems"]
        assert "model" in problems and "index" not in problems
        assert server.request("GET", "/health").status == 200


def test_ready_names_a_missing_index(tmp_path: Path, vault: Path, model: ScriptedLlm) -> None:
    config = write_config(tmp_path, vault, model.base_url)
    with serving(config) as server:
        reply = server.request("GET", "/ready")
        assert reply.status == 503
        assert "ingest" in json.dumps(reply.json()["problems"]["index"])
