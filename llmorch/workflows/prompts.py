"""What the model is told in each mode; short and explicit, because small local models follow little else."""

from __future__ import annotations

from collections.abc import Sequence

from llmorch.workflows.citations import Source, passages_block

RAG_SYSTEM = (
    "You answer questions about the user's notes using only the numbered passages given with "
    "the question. After each claim, cite the passage it comes from by its number in square "
    "brackets, like [1]. If the passages do not answer the question, say that the notes do not "
    "cover it."
)

PLAIN_SYSTEM = "You are a helpful assistant. Answer concisely."

AGENT_SYSTEM = (
    "You help the user with their notes. Call the search_knowledge_base tool to find relevant "
    "passages before answering, and read_note to read a whole note when a passage is not enough. "
    "Answer from what the tools return. After each claim, cite the passage it comes from by "
    "its source in square brackets, like [projects/tea.md#Brewing]. If nothing relevant is "
    "found, say so."
)


def rag_question(question: str, sources: Sequence[Source]) -> str:
    """The user turn of a rag answer: the passages first, the question last, where models look."""
    if not sources:
        return f"Passages: none matched.\n\nQuestion: {question}"
    return f"Passages:\n\n{passages_block(sources)}\n\nQuestion: {question}"
