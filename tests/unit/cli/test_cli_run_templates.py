"""`llmorch run` with the built-in templates, over the real client path (HTTP to a scripted
server) and the real index: what a user's shell or timer sees."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cli_invoke import Invoke
from scripted_llm import Reply, ScriptedLlm


def researcher(body: dict[str, Any]) -> Reply:
    """Plans two sub-questions, answers each citing its first passage, reports the citations."""
    system = body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    if "sub-questions" in system:
        return Reply(text=json.dumps({"sub_questions": ["restic snapshots", "tomatoes"]}))
    if "Findings:" in user:
        return Reply(text="Report: " + " ".join(re.findall(r"\[\d+\]", user)))
    first = re.search(r"^\[(\d+)\]", user.split("Passages:")[1].strip(), re.M)
    return Reply(text=f"Answer [{first[1] if first else 0}].")


def test_run_research_prints_a_report_citing_sources_numbered_across_it(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.script = researcher
    result = cli("run", "research", "question=backups and garden?", "max_questions=2", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)["output"]
    assert [a["question"] for a in out["sub_answers"]] == ["restic snapshots", "tomatoes"]
    paths = {s["n"]: s["path"] for s in out["sources"]}
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", out["report"])]
    assert paths[cited[0]] == "Backup strategy.md" and paths[cited[1]] == "Garden.md"
    assert "response_format" in llm.requests[0]  # the plan asked for structured output


def test_run_summarize_prints_the_summary_of_a_note(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="Nightly restic snapshots, kept a week [1]."))
    result = cli("run", "summarize", f"path={indexed / 'Backup strategy.md'}")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Nightly restic snapshots, kept a week [1].")
    assert "Backup strategy.md#Backup strategy > Schedule" in result.stdout
    assert "02:30" in llm.requests[0]["messages"][-1]["content"]


def test_run_extract_prints_json_that_validates(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text='{"task": "water tomatoes", "day": "Tuesday", "weekly": true}'))
    result = cli(
        "run", "extract", "text=Water the tomatoes every Tuesday",
        "schema=task, day, weekly: bool", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["output"]["data"]
    assert data == {"task": "water tomatoes", "day": "Tuesday", "weekly": True}


def test_run_digest_links_the_notes_changed_today(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.script = lambda body: Reply(text="Things changed.")
    result = cli("run", "digest", "since=1d")
    assert result.exit_code == 0, result.output
    assert "[[projects/Llmorch]]" in result.stdout and "[[Garden]]" in result.stdout


def test_run_extract_with_an_invalid_schema_exits_2_without_a_traceback(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    result = cli("run", "extract", "text=x", "schema=when: colour")
    assert result.exit_code == 2
    assert "unknown type 'colour' for 'when'" in result.stderr
    assert "Traceback" not in result.output
    assert llm.requests == []


def test_run_summarize_of_a_missing_path_exits_2(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    result = cli("run", "summarize", "path=no/such/note")
    assert result.exit_code == 2
    assert "no note, folder or file at no/such/note" in result.stderr
