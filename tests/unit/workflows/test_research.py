"""`research`: a plan (repaired or retried when it is not JSON), bounded concurrent searches,
sub-answers from their own passages and one report whose [n] count across the whole run."""

from __future__ import annotations

import json
import re

from workflow_kit import NotesInMemory, context

from llmorch.llm.testing import ModelCall, ScriptedModel
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.workflows.builtin import research
from llmorch.workflows.builtin.research import ResearchInput, ResearchOutput


def researcher(plan: list[str] | str):
    """A model that plans `plan`, answers each sub-question citing its first passage, and
    reports by joining the findings' citations."""

    def reply(call: ModelCall) -> str:
        text = call.last_user_text()
        system = str(call.messages[0].content)
        if text.startswith("That answer is not valid"):
            return json.dumps({"sub_questions": ["alpha beta", "gamma"]})
        if "sub-questions" in system:
            return plan if isinstance(plan, str) else json.dumps({"sub_questions": plan})
        if "Findings:" in text:
            return "Report: " + " ".join(re.findall(r"\[\d+\]", text))
        first = re.search(r"^\[(\d+)\]", text.split("Passages:")[1].strip(), re.M)
        return f"Found it [{first[1] if first else '?'}]."

    return reply


async def run(model: ScriptedModel, notes: NotesInMemory, **fields: object) -> ResearchOutput:
    request = ResearchInput.model_validate({"question": "what about alpha?", **fields})
    return (await research.PIPELINE.execute(request, context(model, notes=notes))).unwrap()


async def test_citations_are_numbered_across_the_whole_report(notes: NotesInMemory) -> None:
    model = ScriptedModel(researcher(["alpha beta", "beta gamma", "delta"]))
    out = await run(model, notes)
    # "beta" is found by two sub-questions but keeps the one number it was first given.
    assert [s.path for s in out.sources] == ["alpha.md", "beta.md", "gamma.md", "delta.md"]
    assert [a.answer for a in out.sub_answers] == [
        "Found it [1].",
        "Found it [2].",
        "Found it [4].",
    ]
    assert out.report == "Report: [1] [2] [4]"
    assert [s.cited for s in out.sources] == [True, True, False, True]


async def test_a_plan_that_is_not_json_is_repaired(notes: NotesInMemory) -> None:
    model = ScriptedModel(researcher("Here: {'sub_questions': ['alpha', 'beta',]"))
    out = await run(model, notes)
    assert [a.question for a in out.sub_answers] == ["alpha", "beta"]


async def test_a_plan_that_does_not_validate_is_asked_again_with_its_errors(
    notes: NotesInMemory,
) -> None:
    model = ScriptedModel(researcher('{"questions": "alpha"}'))
    out = await run(model, notes)
    assert [a.question for a in out.sub_answers] == ["alpha beta", "gamma"]
    assert "sub_questions" in model.calls[1].last_user_text()


async def test_searches_run_concurrently_but_never_more_than_the_bound() -> None:
    notes = NotesInMemory(delay_s=0.05)
    plan = ["one", "two", "three", "four", "five"]
    model = ScriptedModel(researcher(plan))
    out = await run(model, notes, max_questions=5)
    assert len(out.sub_answers) == 5
    assert notes.max_in_flight == research.CONCURRENCY
    assert sorted(notes.queries) == sorted(plan)


async def test_the_plan_is_cut_to_max_questions_and_duplicates_dropped(
    notes: NotesInMemory,
) -> None:
    model = ScriptedModel(researcher(["alpha", "alpha", "beta", "gamma", "delta"]))
    out = await run(model, notes, max_questions=2)
    assert [a.question for a in out.sub_answers] == ["alpha", "beta"]


async def test_a_sub_question_with_no_passages_is_answered_without_the_model() -> None:
    class Empty(NotesInMemory):
        async def search(self, request: SearchRequest) -> list[SearchHit]:
            return []

    model = ScriptedModel(researcher(["alpha", "beta"]))
    out = await run(model, Empty())
    assert {a.answer for a in out.sub_answers} == {"The notes do not cover this."}
    assert len(model.calls) == 2  # the plan and the report
