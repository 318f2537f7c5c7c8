from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import yaml
from cli_invoke import Invoke
from scripted_llm import Reply, ScriptedLlm


def test_rag_json_answer_cites_the_retrieved_note(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    result = cli("ask", "-q", "when do restic snapshots run?", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "ok" and data["exit_code"] == 0
    assert data["mode"] == "rag"
    assert "[1]" in data["answer"]
    first = data["sources"][0]
    assert first["n"] == 1 and first["path"] == "Backup strategy.md" and first["cited"] is True
    assert data["usage"]["total_tokens"] == 18
    assert {"prepare", "retrieve", "answer", "cite", "total"} <= data["timings_ms"].keys()
    assert len(data["trace_id"]) == 32
    assert data["model"] == "scripted-model"


def test_rag_sends_the_numbered_passages_and_question_to_the_model(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    cli("ask", "-q", "when do restic snapshots run?")
    user_turn = llm.requests[-1]["messages"][-1]["content"]
    assert user_turn.startswith("Passages:")
    assert "[1] Backup strategy.md#" in user_turn
    assert "02:30" in user_turn
    assert user_turn.rstrip().endswith("Question: when do restic snapshots run?")


def test_piped_answer_is_plain_text_followed_by_numbered_sources(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="Nightly at **02:30** [1]."))
    result = cli("ask", "-q", "restic schedule")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Nightly at **02:30** [1]."
    assert "Sources:" in lines
    assert any(line.startswith("[1] Backup strategy.md#") for line in lines)
    assert "\x1b[" not in result.stdout


def test_question_is_read_from_stdin_when_piped(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    result = cli("ask", "--no-stream", input="what about the tomatoes?\n")
    assert result.exit_code == 0, result.output
    assert "tomatoes" in llm.requests[-1]["messages"][-1]["content"]
    assert llm.requests[-1].get("stream") is not True


def test_no_question_at_all_is_a_usage_error(cli: Invoke, indexed: Path) -> None:
    result = cli("ask", input="")
    assert result.exit_code == 2
    assert "-q" in result.stderr


def test_tags_restrict_the_passages(cli: Invoke, indexed: Path, llm: ScriptedLlm) -> None:
    data = json.loads(cli("ask", "-q", "restic tomatoes", "--tags", "garden", "--json").stdout)
    assert [s["path"] for s in data["sources"]] == ["Garden.md"]


def test_model_flag_is_sent_to_the_server(cli: Invoke, indexed: Path, llm: ScriptedLlm) -> None:
    cli("ask", "-q", "restic", "--model", "qwen3-4b")
    assert llm.requests[-1]["model"] == "qwen3-4b"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_llm_is_exit_4_with_one_error_line(
    cli: Invoke, indexed: Path, config: Path
) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["llm"]["base_url"] = f"http://127.0.0.1:{_closed_port()}/v1"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = cli("ask", "-q", "restic")
    assert result.exit_code == 4
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot reach the LLM" in errors[0]
    assert "Traceback" not in result.stderr


def test_server_error_is_exit_5_and_json_reports_it(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(error_status=500, text="model crashed"))
    result = cli("ask", "-q", "restic", "--json")
    assert result.exit_code == 5
    data = json.loads(result.stdout)
    assert data["status"] == "error" and data["exit_code"] == 5 and data["kind"] == "llm"
    assert "Traceback" not in result.stderr


def test_verbose_shows_the_traceback_of_an_expected_failure(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(error_status=500))
    result = cli("-v", "ask", "-q", "restic")
    assert result.exit_code == 5
    assert "Traceback" in result.stderr


def test_ask_before_ingest_answers_from_the_model_alone_with_a_note(
    cli: Invoke, llm: ScriptedLlm
) -> None:
    result = cli("ask", "-q", "what is restic?", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "no_index" and data["sources"] == []
    assert data["answer"].startswith("Turn 1")
    assert llm.requests[-1]["messages"][-1]["content"] == "what is restic?"  # no passages block
    plain = cli("ask", "-q", "what is restic?")
    assert plain.exit_code == 0
    assert "no notes are indexed yet" in plain.stderr and "llmorch ingest PATH" in plain.stderr


def test_no_rag_asks_the_model_alone_and_never_opens_the_index(
    cli: Invoke, llm: ScriptedLlm, tmp_path: Path
) -> None:
    result = cli("ask", "--no-rag", "-q", "when do restic snapshots run?", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "plain" and data["status"] == "ok" and data["sources"] == []
    sent = llm.requests[-1]["messages"]
    assert sent[-1]["content"] == "when do restic snapshots run?"
    assert "passages" not in sent[0]["content"]
    assert not (tmp_path / "qdrant").exists()  # not even opened to find it missing


def _cite_first_tool_source(body: dict[str, Any]) -> Reply:
    """Answers like a good agent: cites the first passage the search tool returned, by its source."""
    tool_turns = [m for m in body["messages"] if m["role"] == "tool"]
    passages = json.loads(tool_turns[-1]["content"])
    return Reply(text=f"Snapshots run nightly at 02:30 [{passages[0]['source']}].")


def test_agent_mode_searches_through_the_tool_and_numbers_the_cited_source(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(tool_calls=[("search_knowledge_base", {"query": "restic nightly"})]))
    llm.script = _cite_first_tool_source
    result = cli("ask", "-q", "when do backups run?", "--mode", "agent", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "agent" and data["status"] == "ok"
    assert data["answer"] == "Snapshots run nightly at 02:30 [1]."
    assert data["sources"][0]["path"] == "Backup strategy.md" and data["sources"][0]["cited"]
    (call,) = data["tool_calls"]
    assert call["name"] == "search_knowledge_base" and call["ok"] is True
    assert call["arguments"] == {"query": "restic nightly"}
    assert {"prepare", "tool_loop", "cite"} <= data["timings_ms"].keys()
    assert data["usage"]["total_tokens"] == 36


def test_agent_mode_streams_the_answer_and_notes_tool_calls_on_stderr(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(tool_calls=[("search_knowledge_base", {"query": "tomatoes"})]))
    llm.script = _cite_first_tool_source
    result = cli("ask", "-q", "garden?", "--mode", "agent")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Snapshots run nightly at 02:30 [1].\n")
    assert "[1] Garden.md" in result.stdout
    assert "→ search_knowledge_base" in result.stderr
    assert llm.requests[-1]["stream"] is True


def test_agent_tags_flag_applies_when_the_model_gives_none(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(tool_calls=[("search_knowledge_base", {"query": "restic tomatoes"})]))
    llm.script = _cite_first_tool_source
    data = json.loads(cli("ask", "-q", "x", "--mode", "agent", "--tags", "garden", "--json").stdout)
    assert [s["path"] for s in data["sources"]] == ["Garden.md"]


def test_thinking_is_kept_out_of_the_answer_and_shown_on_stderr_only_when_asked(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="<think>the note says 02:30</think>Nightly at 02:30 [1]."))
    llm.replies.append(Reply(text="<think>the note says 02:30</think>Nightly at 02:30 [1]."))
    hidden = cli("ask", "-q", "restic")
    shown = cli("ask", "-q", "restic", "--show-thinking")
    assert (
        hidden.stdout.startswith("Nightly at 02:30 [1].") and "02:30</think>" not in hidden.stdout
    )
    assert "the note says" not in hidden.stderr
    assert shown.stdout.startswith("Nightly at 02:30 [1].")
    assert "the note says 02:30" in shown.stderr


def test_every_log_line_of_a_run_carries_the_trace_id_ask_json_reports(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    result = cli("--log-json", "-vv", "ask", "-q", "when do restic snapshots run?", "--json")
    assert result.exit_code == 0, result.output
    trace_id = json.loads(result.stdout)["trace_id"]
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    messages = " | ".join(str(r["message"]) for r in records)
    assert "search 'when do restic snapshots run?'" in messages
    assert "model scripted-model answered" in messages
    assert {r["trace_id"] for r in records} == {trace_id}


def test_a_failed_json_run_has_the_answer_keys_and_its_trace_id(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    ok = json.loads(cli("ask", "-q", "restic", "--json").stdout)
    llm.replies.append(Reply(error_status=500, text="model crashed"))
    result = cli("ask", "-q", "restic", "--json")
    assert result.exit_code == 5
    failed = json.loads(result.stdout)
    assert set(failed) == set(ok) | {"kind", "error"}
    assert failed["status"] == "error" and failed["answer"] == "" and failed["sources"] == []
    assert failed["query"] == "restic" and failed["mode"] == "rag"
    assert len(failed["trace_id"]) == 32 and failed["trace_id"] != ok["trace_id"]
    assert "model crashed" in failed["error"]


def _always_search_until_tools_are_off(body: dict[str, Any]) -> Reply:
    if not body.get("tools"):
        return Reply(text="Backups run at 02:30 [1].")
    turn = sum(m["role"] == "tool" for m in body["messages"])
    return Reply(tool_calls=[("search_knowledge_base", {"query": f"restic {turn}"})])


def test_agent_run_cut_at_the_iteration_bound_says_so_after_the_answer(
    cli: Invoke, indexed: Path, llm: ScriptedLlm, config: Path
) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["llm"]["max_tool_iterations"] = 2
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    llm.script = _always_search_until_tools_are_off
    result = cli("ask", "-q", "when do backups run?", "--mode", "agent")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Backups run at 02:30 [1].")
    assert "note: the model kept calling tools up to llm.max_tool_iterations" in result.stderr
    assert "note:" not in result.stdout


def test_an_empty_answer_is_pointed_out_instead_of_printing_nothing(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text=""))
    result = cli("ask", "-q", "restic")
    assert result.exit_code == 0, result.output
    assert "note: the model gave no answer" in result.stderr
    ok = cli("ask", "-q", "restic")
    assert "note:" not in ok.stderr


def test_rag_answer_citing_a_note_by_path_shows_its_number_streamed_or_not(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    for flags in ((), ("--no-stream",)):
        llm.replies.append(Reply(text="Nightly at 02:30 [Backup strategy.md], see [9]."))
        result = cli("ask", "-q", "restic schedule", *flags)
        assert result.exit_code == 0, result.output
        # [9] points at no source (there is one): it is dropped, streamed or not.
        assert result.stdout.startswith("Nightly at 02:30 [1], see.\n"), flags


def test_agent_mode_shows_thinking_on_stderr_when_asked(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="<think>the schedule note has it</think>Nightly at 02:30."))
    llm.replies.append(Reply(text="<think>the schedule note has it</think>Nightly at 02:30."))
    for flags in ((), ("--no-stream",)):
        result = cli("ask", "-q", "restic", "--mode", "agent", "--show-thinking", *flags)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Nightly at 02:30.")
        assert "the schedule note has it" in result.stderr, flags
        assert "the schedule note" not in result.stdout


def test_an_answer_from_no_notes_says_so_and_cites_nothing(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="The UPS lasts 20 minutes [1]."))
    data = json.loads(
        cli("ask", "-q", "How long does the UPS last?", "-t", "nosuchtag", "--json").stdout
    )
    assert data["status"] == "no_sources" and data["sources"] == []
    assert data["answer"] == "The UPS lasts 20 minutes."
    llm.replies.append(Reply(text="The UPS lasts 20 minutes [1]."))
    result = cli("ask", "-q", "How long does the UPS last?", "-t", "nosuchtag")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "The UPS lasts 20 minutes."
    assert "note: no notes matched" in result.stderr


def test_a_mark_naming_a_source_that_does_not_exist_is_dropped(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="Nightly at 02:30 [1, 7]; items[2] is code [9]."))
    data = json.loads(cli("ask", "-q", "restic schedule", "--json", "--no-stream").stdout)
    assert len(data["sources"]) < 7
    assert data["answer"] == "Nightly at 02:30 [1]; items[2] is code."
