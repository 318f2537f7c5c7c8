"""The built-in templates and `ask --schema` against the real llama.cpp server (SmolLM2-135M).

The model is tiny, so these check what the templates guarantee whatever it says: the output
validates (llama-cpp-python constrains decoding to the schema, sent in a json_object
response_format), the sources are the notes, and every step finishes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from indexed_vault import LLMORCH, indexed_vault_env

from llmorch.llm.schema_spec import model_from_spec
from llmorch.workflows.builtin.extract import ExtractOutput
from llmorch.workflows.builtin.research import ResearchOutput
from llmorch.workflows.builtin.summarize import SummarizeOutput

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.integration

NOTES = {
    "Backup strategy.md": (
        "# Backup strategy\n\n## Schedule\n\nRestic backs up the laptop every night at 02:30 "
        "to the NAS called bramble.\n\n## Retention\n\nKeep 7 daily and 4 weekly snapshots.\n"
    ),
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays and Fridays.\n",
}
SPEC = "task, day: str, urgent: bool"


@pytest.fixture
def env(tmp_path: Path, llama_server: LlamaServer) -> dict[str, str]:
    # llama-cpp-python's server runs a 2048-token window by default and does not report it.
    llm = llama_server.settings(context_length=2048).model_dump(mode="json", exclude_none=True)
    return indexed_vault_env(tmp_path, NOTES, llm)


def llmorch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LLMORCH), *args], env=env, capture_output=True, text=True, timeout=600
    )


def run_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = llmorch(env, "run", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["output"]


def test_ask_schema_prints_json_that_validates(env: dict[str, str]) -> None:
    done = llmorch(env, "ask", "-q", "when do backups run?", "--schema", SPEC, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    model_from_spec(SPEC).model_validate(data["answer"])
    assert data["mode"] == "json_schema"  # enforced by the server, not prompted
    assert "Backup strategy.md" in {s["path"] for s in data["sources"]}


def test_run_extract_output_validates_against_the_field_list(env: dict[str, str]) -> None:
    text = "Renew the passport by Friday, it is urgent."
    out = ExtractOutput.model_validate(run_json(env, "extract", f"text={text}", f"schema={SPEC}"))
    model_from_spec(SPEC).model_validate(out.data)
    assert out.attempts == 1  # the server enforced the schema: the first answer validated


def test_run_summarize_a_note_cites_its_sections(env: dict[str, str]) -> None:
    # "Backup strategy" is found in the note folder, .md added.
    out = SummarizeOutput.model_validate(run_json(env, "summarize", "path=Backup strategy"))
    assert out.summary.strip()
    assert [s.citation for s in out.sources] == [
        "Backup strategy.md#Backup strategy > Schedule",
        "Backup strategy.md#Backup strategy > Retention",
    ]


def test_run_research_plans_searches_and_reports(env: dict[str, str]) -> None:
    # What SmolLM2-135M plans is often not a sensible question, so this checks the shape: a
    # bounded plan, an answer per sub-question, a report, and sources numbered once, in order.
    out = ResearchOutput.model_validate(
        run_json(env, "research", "question=How are backups kept?", "max_questions=2", "limit=2")
    )
    assert 1 <= len(out.sub_answers) <= 2
    assert all(a.answer.strip() for a in out.sub_answers)
    assert out.report.strip()
    assert [s.n for s in out.sources] == list(range(1, len(out.sources) + 1))
