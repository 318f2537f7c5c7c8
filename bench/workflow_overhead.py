"""What the `research` workflow adds around its model calls, and whether its searches and
sub-answers overlap.

Runs `research` with 4 sub-questions against the scripted model (llmorch.llm.testing) and an
in-memory note search:
1. instant model and search: the whole run is orchestration; goal p50 < 20 ms.
2. 200 ms per model call and 100 ms per search: wall time next to the longest path
   (plan → search → answer → report) and next to the sum of every call done one after another.

    .venv/bin/python bench/workflow_overhead.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from llmorch.config import Settings
from llmorch.llm.model import ChatModel
from llmorch.llm.testing import ModelCall, ScriptedModel
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.workflows.builtin import research
from llmorch.workflows.builtin.research import ResearchInput
from llmorch.workflows.definition import WorkflowContext

SUB_QUESTIONS = ["backup schedule", "retention policy", "restore drill", "offsite copy"]
MODEL_DELAY_S = 0.2
SEARCH_DELAY_S = 0.1


@dataclass
class BenchRuntime:
    model: ScriptedModel
    settings: Settings = field(default_factory=Settings)

    def llm(self) -> ChatModel:
        return self.model

    def note_roots(self) -> list[Path]:
        return []


@dataclass
class Notes:
    delay_s: float

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return [
            SearchHit(
                path=f"{word}.md", title=word, heading="", snippet=word,
                text=f"Notes about {word}.", score=1.0,
            )
            for word in request.query.split()
        ]  # fmt: skip


def reply(call: ModelCall) -> str:
    system = str(call.messages[0].content)
    if "sub-questions" in system:
        return json.dumps({"sub_questions": SUB_QUESTIONS})
    if "Findings:" in call.last_user_text():
        return "The report, citing [1] and [3]."
    return "An answer [1]."


async def one_run(model_delay_s: float, search_delay_s: float) -> tuple[float, ScriptedModel]:
    model = ScriptedModel(reply, delay_s=model_delay_s)
    ctx = WorkflowContext(
        runtime=BenchRuntime(model), knowledge=Notes(search_delay_s), stream=False
    )
    request = ResearchInput(question="How are my backups kept?", max_questions=4)
    started = time.perf_counter()
    out = (await research.PIPELINE.execute(request, ctx)).unwrap()
    wall_ms = (time.perf_counter() - started) * 1000
    assert len(out.sub_answers) == len(SUB_QUESTIONS)
    return wall_ms, model


async def main(rounds: int) -> None:
    for _ in range(10):  # warm imports and caches
        await one_run(0.0, 0.0)
    walls = [(await one_run(0.0, 0.0))[0] for _ in range(rounds)]
    print(f"research, 4 sub-questions, instant scripted model ({rounds} runs):")
    print(
        f"  orchestration p50 {statistics.median(walls):.2f} ms, "
        f"p95 {statistics.quantiles(walls, n=20)[-1]:.2f} ms (goal p50 < 20 ms)"
    )

    delayed = [await one_run(MODEL_DELAY_S, SEARCH_DELAY_S) for _ in range(5)]
    wall = statistics.median(w for w, _ in delayed)
    model = delayed[0][1]
    calls = len(model.calls)
    longest = (3 * MODEL_DELAY_S + SEARCH_DELAY_S) * 1000
    summed = (calls * MODEL_DELAY_S + len(SUB_QUESTIONS) * SEARCH_DELAY_S) * 1000
    print(
        f"with {MODEL_DELAY_S * 1000:.0f} ms per model call, {SEARCH_DELAY_S * 1000:.0f} ms "
        f"per search ({calls} model calls, {len(SUB_QUESTIONS)} searches):"
    )
    print(
        f"  wall p50 of 5 {wall:.0f} ms; longest path {longest:.0f} ms (+{wall - longest:.0f} ms); "
        f"one after another {summed:.0f} ms; model calls in flight at once: {model.max_in_flight}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    asyncio.run(main(parser.parse_args().rounds))
