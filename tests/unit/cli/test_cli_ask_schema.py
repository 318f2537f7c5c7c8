"""`ask --schema`: JSON that validates against the schema, over the real client path (HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

from cli_invoke import Invoke
from scripted_llm import Reply, ScriptedLlm


def test_schema_answer_is_json_and_the_schema_goes_to_the_server(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text='{"time": "02:30", "nightly": true}'))
    result = cli("ask", "-q", "when do backups run?", "--schema", "time, nightly: bool")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"time": "02:30", "nightly": True}
    sent = llm.requests[-1]["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"]["required"] == ["time", "nightly"]
    assert "02:30" in llm.requests[-1]["messages"][1]["content"]  # the passages came along


def test_schema_json_wraps_the_answer_with_sources_and_usage(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text='{"time": "02:30"}'))
    result = cli("ask", "-q", "when do backups run?", "--schema", '{"type": "object", '
                 '"properties": {"time": {"type": "string"}}, "required": ["time"]}', "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == {"time": "02:30"}
    assert data["sources"][0]["path"] == "Backup strategy.md"
    assert data["usage"]["total_tokens"] > 0 and data["exit_code"] == 0
    assert data["mode"] == "json_schema" and data["attempts"] == 1


def test_a_schema_answer_is_recorded_as_a_run_with_its_schema(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text='{"time": "02:30"}'))
    result = cli("ask", "-q", "when do backups run?", "--schema", "time", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    shown = cli("runs", "show", answer["run_id"], "--json")
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert (record["workflow"], record["status"], record["trace_id"]) == (
        "ask-structured",
        "ok",
        answer["trace_id"],
    )
    assert record["input"]["query"] == "when do backups run?"
    assert record["input"]["answer_schema"]["required"] == ["time"]
    assert record["output"]["answer"] == {"time": "02:30"}
    assert record["retrievals"][0]["hits"][0]["path"] == answer["sources"][0]["path"]
    refused = cli("runs", "rerun", answer["run_id"])
    assert refused.exit_code == 10 and "not a workflow" in refused.stderr


def test_a_failed_schema_answer_leaves_a_failed_run(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies += [Reply(text='{"when": "later"}')] * 3
    assert cli("ask", "-q", "when?", "--schema", "time").exit_code == 5
    listed = cli("runs", "list", "-w", "ask-structured", "--json")
    [run] = json.loads(listed.stdout)
    assert run["status"] == "failed"


def test_an_answer_that_never_validates_fails_naming_the_field(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies += [Reply(text='{"when": "later"}')] * 3
    result = cli("ask", "-q", "when?", "--schema", "time")
    assert result.exit_code == 5
    assert "invalid: time" in result.stderr


def test_an_invalid_schema_is_a_usage_error_before_any_model_call(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    result = cli("ask", "-q", "when?", "--schema", "time: colour")
    assert result.exit_code == 2
    assert "unknown type 'colour' for 'time'" in result.stderr
    assert llm.requests == []
