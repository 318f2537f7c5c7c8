"""`summarize`: pieces sized to the context window, summaries combined until one is left, and
sections cited as [n] = file#heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from workflow_kit import context

from llmorch.errors import UsageError
from llmorch.llm.model import ModelCapabilities
from llmorch.llm.testing import ModelCall, ScriptedModel
from llmorch.workflows.builtin import summarize
from llmorch.workflows.builtin.summarize import SummarizeInput, SummarizeOutput


def cite_all(call: ModelCall) -> str:
    """Summarises by citing every section the piece carries."""
    marks = sorted(set(re.findall(r"\[\d+\]", call.last_user_text())), key=lambda m: int(m[1:-1]))
    return "Summary " + " ".join(marks)


def vault(root: Path, sections: int, words: int) -> Path:
    body = "\n\n".join(f"## Part {i}\n\n" + " ".join(["word"] * words) for i in range(sections))
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "long.md").write_text(f"# Long\n\n{body}\n")
    (root / "notes" / "short.md").write_text("# Short\n\n## Only\n\nA line.\n")
    return root


async def run(
    model: ScriptedModel,
    request: SummarizeInput,
    *,
    roots: list[Path] | None = None,
    context_length: int | None = None,
) -> SummarizeOutput:
    ctx = context(model, roots=roots, context_length=context_length)
    return (await summarize.PIPELINE.execute(request, ctx)).unwrap()


async def test_a_small_note_is_one_piece_citing_its_headings(tmp_path: Path) -> None:
    root = vault(tmp_path, sections=2, words=10)
    model = ScriptedModel(cite_all)
    out = await run(model, SummarizeInput(path="notes/long"), roots=[root])
    assert out.pieces == 1 and out.rounds == 1
    assert out.summary == "Summary [1] [2]"
    assert [s.citation for s in out.sources] == ["long.md#Long > Part 0", "long.md#Long > Part 1"]


async def test_pieces_fit_the_context_window_the_server_reports(tmp_path: Path) -> None:
    root = vault(tmp_path, sections=12, words=300)  # ~1.5k characters a section
    model = ScriptedModel(cite_all, capabilities=ModelCapabilities(context_length=2048))
    out = await run(model, SummarizeInput(path=str(root / "notes")))
    budget = (2048 - summarize.SUMMARY_TOKENS - 200) * summarize.CHARS_PER_TOKEN
    first_round = model.calls[: out.pieces]
    assert out.pieces > 3
    assert all(len(c.last_user_text()) <= budget for c in first_round)
    assert out.rounds >= 2
    # Every section, in both notes, made it into one first-round piece, and the final summary.
    assert out.summary == "Summary " + " ".join(f"[{n}]" for n in range(1, len(out.sources) + 1))


async def test_without_a_reported_window_the_config_sizes_the_pieces(tmp_path: Path) -> None:
    root = vault(tmp_path, sections=12, words=300)
    small, large = ScriptedModel(cite_all), ScriptedModel(cite_all)
    request = SummarizeInput(path=str(root / "notes"))
    few = await run(large, request, context_length=32768)
    many = await run(small, request, context_length=2048)
    assert few.pieces == 1 < many.pieces


async def test_given_text_is_summarised_with_its_focus() -> None:
    model = ScriptedModel(cite_all)
    out = await run(model, SummarizeInput(text="# Plan\n\nShip it.", focus="dates"))
    assert out.summary == "Summary [1]"
    assert "Attend to: dates." in str(model.calls[0].messages[0].content)


async def test_a_missing_path_is_an_input_error() -> None:
    with pytest.raises(UsageError, match="no note, folder or file at nowhere"):
        await run(ScriptedModel(cite_all), SummarizeInput(path="nowhere"))


def test_path_and_text_are_exclusive() -> None:
    with pytest.raises(ValueError, match="exactly one of path or text"):
        SummarizeInput(path="a", text="b")
