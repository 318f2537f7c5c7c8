"""`llmorch serve` as a real process: every bad request gets its status and a JSON error, keys
are enforced, and the server stays up whatever it is sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from scripted_llm import Reply, ScriptedLlm
from served import (
    LLMORCH,
    Served,
    bearer,
    free_port,
    ingest,
    serving,
    serving_indexed,
    write_config,
)

KEY = "test-key-0123456789"
HOOK_SECRET = "hook-secret-abcdef"
HOOKS = {
    "triage": {"workflow": "qa", "secret": HOOK_SECRET, "input": {"query": "issue.title"}},
    "phone": {"workflow": "qa", "secret": "phone-token-123", "auth": "bearer"},
    "broken": {"workflow": "no-such-workflow", "secret": "x"},
}


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, vault: Path, model: ScriptedLlm
) -> Iterator[Served]:
    """One server for the module: requests here must leave it as they found it."""
    home = tmp_path_factory.mktemp("served")
    config = write_config(
        home, vault, model.base_url, api_keys=[KEY], max_body_bytes=4096, hooks=HOOKS
    )
    with serving_indexed(config) as server:
        yield server


def auth(key: str = KEY) -> dict[str, str]:
    return bearer(key)


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
    down = f"http://127.0.0.1:{free_port()}/v1"
    config = write_config(tmp_path, vault, down)
    with serving(config) as server:
        ingest(server.env)
        reply = server.request("GET", "/ready")
        assert reply.status == 503
        body = reply.json()
        assert body["status"] == "not ready"
        assert set(body["problems"]) == {"model"}
        assert down.removesuffix("/v1") in body["problems"]["model"]
        assert server.request("GET", "/health").status == 200


def test_ready_when_the_model_is_down_but_its_fallback_answers(
    tmp_path: Path, vault: Path, model: ScriptedLlm
) -> None:
    config = write_config(tmp_path, vault, f"http://127.0.0.1:{free_port()}/v1")
    settings = yaml.safe_load(config.read_text())
    settings["models"] = {"backup": {"base_url": model.base_url, "model": "m"}}
    settings["llm"]["fallback"] = ["backup"]
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with serving(config) as server:
        ingest(server.env)
        reply = server.request("GET", "/ready")
        assert (reply.status, reply.json()) == (200, {"status": "ready"})


def test_ready_names_a_missing_index(tmp_path: Path, vault: Path, model: ScriptedLlm) -> None:
    config = write_config(tmp_path, vault, model.base_url)
    with serving(config) as server:
        reply = server.request("GET", "/ready")
        assert reply.status == 503
        assert "ingest" in json.dumps(reply.json()["problems"]["index"])


def signed(body: bytes, secret: str = HOOK_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def test_a_signed_webhook_runs_its_workflow_with_the_mapped_input(
    served: Served, model: ScriptedLlm
) -> None:
    body = json.dumps({"issue": {"title": "when do backups run?", "number": 7}}).encode()
    reply = served.request("POST", "/hooks/triage", body, signed(body))
    assert reply.status == 200, reply.body
    result = reply.json()
    assert result["workflow"] == "qa"
    assert result["output"]["query"] == "when do backups run?"
    assert result["sources"][0]["path"] == "Backup strategy.md"
    assert len(model.requests) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"Content-Type": "application/json", "X-Hub-Signature-256": "sha1=abc"},
    ],
)
def test_a_webhook_with_a_bad_signature_is_401_and_runs_nothing(
    served: Served, model: ScriptedLlm, headers: dict[str, str]
) -> None:
    body = json.dumps({"issue": {"title": "when do backups run?"}}).encode()
    reply = served.request("POST", "/hooks/triage", body, headers)
    assert reply.status == 401
    assert model.requests == []


def test_a_signature_over_another_body_is_refused(served: Served, model: ScriptedLlm) -> None:
    signed_body = json.dumps({"issue": {"title": "harmless"}}).encode()
    sent = json.dumps({"issue": {"title": "something else"}}).encode()
    assert served.request("POST", "/hooks/triage", sent, signed(signed_body)).status == 401
    assert model.requests == []


def test_a_bearer_webhook_takes_its_token_and_the_body_as_input(
    served: Served, model: ScriptedLlm
) -> None:
    body = {"query": "tomatoes?"}
    assert served.post_json("/hooks/phone", body, auth("wrong")).status == 401
    assert model.requests == []
    reply = served.post_json("/hooks/phone", body, auth("phone-token-123"))
    assert reply.status == 200
    assert reply.json()["output"]["query"] == "tomatoes?"


@pytest.mark.parametrize(
    ("hook", "payload", "status"),
    [
        ("nobody", {"issue": {"title": "x"}}, 404),
        ("triage", {"issue": {}}, 422),
        ("broken", {"query": "x"}, 404),
    ],
)
def test_webhook_problems_are_json_errors(
    served: Served, hook: str, payload: object, status: int
) -> None:
    body = json.dumps(payload).encode()
    secret = "x" if hook == "broken" else HOOK_SECRET
    reply = served.request("POST", f"/hooks/{hook}", body, signed(body, secret))
    assert reply.status == status, reply.body
    assert reply.json()["error"]["message"]


def test_workflows_are_listed_with_their_schemas(served: Served) -> None:
    listed = served.request("GET", "/api/workflows", headers=auth()).json()["workflows"]
    qa = next(w for w in listed if w["name"] == "qa")
    assert "query" in qa["input_schema"]["properties"]
    assert qa["steps"]


def test_a_workflow_runs_with_validated_input(served: Served) -> None:
    reply = served.post_json("/api/workflows/qa/run", {"query": "when do backups run?"}, auth())
    assert reply.status == 200, reply.body
    assert reply.json()["output"]["answer"].startswith("Turn 1")
    bad = served.post_json("/api/workflows/qa/run", {"query": ""}, auth())
    assert bad.status == 422
    assert "query" in bad.json()["error"]["message"]
    unknown = served.post_json("/api/workflows/qaa/run", {"query": "x"}, auth())
    assert unknown.status == 404
    assert "qa" in unknown.json()["error"]["message"]


def test_workflows_are_offered_as_models_too(served: Served) -> None:
    models = {m["id"] for m in served.request("GET", "/v1/models", headers=auth()).json()["data"]}
    assert {"llmorch-qa", "llmorch-agent"} <= models
