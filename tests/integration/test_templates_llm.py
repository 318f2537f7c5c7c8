"""The built-in templates and `ask --schema` against the real llama.cpp server (SmolLM2-135M).

The model is tiny, so these check what the templates guarantee whatever it says: the output
validates (llama-cpp-python constrains decoding to the schema, sent in a json_object
response_format), the sources are the notes, and every step finishes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from indexed_vault import LLMORCH, indexed_vault_env

from llmorch.config import load_config
from llmorch.llm.schema_spec import model_from_spec
from llmorch.workflows.builtin import extract, research, summarize
from llmorch.workflows.builtin.extract import ExtractInput
from llmorch.workflows.builtin.research import ResearchInput
from llmorch.workflows.builtin.summarize import SummarizeInput
from llmorch.workflows.definition import WorkflowContext
from llmorch.workflows.runtime import Runtime

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
    llm = llama_server.settings().model_dump(mode="json", exclude_none=True)
    return indexed_vault_env(tmp_path, NOTES, llm)


@pytest.fixture
async def runtime(env: dict[str, str]) -> AsyncIterator[Runtime]:
    settings = load_config(Path(env["LLMORCH_CONFIG"])).settings
    async with Runtime(settings) as opened:
        yield opened


def context(runtime: Runtime) -> WorkflowContext:
    return WorkflowContext(runtime=runtime, knowledge=runtime, stream=False)


def test_ask_schema_prints_json_that_validates(env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(LLMORCH), "ask", "-q", "when do backups run?", "--schema", SPEC, "--json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    model_from_spec(SPEC).model_validate(data["answer"])
    assert data["mode"] == "json_schema"  # enforced by the server, not prompted
    assert "Backup strategy.md" in {s["path"] for s in data["sources"]}


async def test_extract_output_validates_against_the_field_list(runtime: Runtime) -> None:
    request = ExtractInput.model_validate(
        {"text": "Renew the passport by Friday, it is urgent.", "schema": SPEC}
    )
    out = (await extract.PIPELINE.execute(request, context(runtime))).unwrap()
    model_from_spec(SPEC).model_validate(out.data)
    assert out.attempts == 1


async def test_summarize_a_note_cites_its_sections(runtime: Runtime, env: dict[str, str]) -> None:
    request = SummarizeInput(path="Backup strategy")  # found in the note folder, .md added
    out = (await summarize.PIPELINE.execute(request, context(runtime))).unwrap()
    assert out.summary.strip()
    assert [s.citation for s in out.sources] == [
        "Backup strategy.md#Backup strategy > Schedule",
        "Backup strategy.md#Backup strategy > Retention",
    ]


async def test_research_plans_searches_and_reports(runtime: Runtime) -> None:
    # What SmolLM2-135M plans is often not a sensible question, so this checks the shape: a
    # bounded plan, an answer per sub-question, a report, and sources numbered once, in order.
    request = ResearchInput(question="How are backups kept?", max_questions=2, limit=2)
    out = (await research.PIPELINE.execute(request, context(runtime))).unwrap()
    assert 1 <= len(out.sub_answers) <= 2
    assert all(a.answer.strip() for a in out.sub_answers)
    assert out.report.strip()
    assert [s.n for s in out.sources] == list(range(1, len(out.sources) + 1))
