"""What the bot says, as Markdown: help, answers with their numbered sources, errors."""

from __future__ import annotations

from collections.abc import Sequence

from llmorch.errors import LlmorchError
from llmorch.workflows.ask import AskResult, status_note
from llmorch.workflows.citations import Source

HELP = """\
Ask me anything: I answer from your notes, and follow-up questions keep the conversation.

/new — start a new conversation
/mode [rag|agent|plain] — show or switch how questions are answered
/model [NAME] — show or switch the model
/tags [TAG,...|-] — show or set the tag filter (- clears it)
/limit [N] — show or set the passages retrieved per question
/sources — the sources of the last answer
/run WORKFLOW [FIELD=VALUE ...] — run a workflow, e.g. `/run qa query="when do backups run?"`
/help — this help"""


def answer(result: AskResult) -> str:
    """The answer, a note when it did not end normally, and the sources its [n] marks cite."""
    parts = [result.answer.strip() or "(no answer)"]
    if note := status_note(result):
        parts.append(f"_Note: {note}_")
    cited = [s for s in result.sources if s.cited]
    if cited:
        parts.append(sources(cited, heading="Sources"))
    return "\n\n".join(parts)


def sources(items: Sequence[Source], *, heading: str) -> str:
    """`[n] title — path#heading`, one a line, under a bold heading."""
    lines = [f"[{s.n}] {s.title} — `{s.citation}`" for s in items]
    return "\n".join([f"**{heading}**", *lines])


def error(exc: LlmorchError) -> str:
    hint = f"\n\n{exc.hint}" if exc.hint else ""
    return f"⚠️ {exc.message}{hint}"
