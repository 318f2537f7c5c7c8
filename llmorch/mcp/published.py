"""The tools llmorch publishes over MCP: the notes' own tools, `ask`, and the workflows — one
ToolRegistry, so MCP clients get the same schemas, validation and timeouts as the model does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from llmorch.tools.base import Tool, ToolRegistry, tool

if TYPE_CHECKING:
    from llmorch.workflows.runtime import Runtime


def published_registry(runtime: Runtime) -> ToolRegistry:
    """search_knowledge_base, read_note and ask over this runtime's notes and model."""
    from llmorch.tools.defaults import build_default_registry

    registry = build_default_registry(runtime.settings, runtime, note_roots=runtime.note_roots)
    registry.register(ask_tool(runtime))
    return registry


def ask_tool(runtime: Runtime) -> Tool:
    """`ask` as a tool: the answer with its numbered sources, as `llmorch ask --json` gives them."""
    llm = runtime.settings.llm
    # A whole answer may take several model turns; the model's own timeout bounds each one.
    budget = llm.timeout_s * (llm.max_tool_iterations + 1)

    @tool(read_only=True, timeout_s=budget)
    async def ask(
        query: Annotated[str, Field(min_length=1)],
        mode: Literal["rag", "agent"] = "rag",
        tags: list[str] | None = None,
        limit: Annotated[int, Field(ge=1, le=50)] = 6,
    ) -> dict[str, Any]:
        """Answer a question from the user's notes with their local model, citing the notes as
        [n]; returns the answer and the sources the numbers refer to.

        Args:
            query: The question.
            mode: rag retrieves passages, then answers; agent lets the model search itself.
            tags: Only notes with any of these tags.
            limit: How many passages to retrieve (rag).
        """
        from llmorch.workflows.ask import AskContext, AskRequest, run_ask

        request = AskRequest(query=query, mode=mode, tags=tags or [], limit=limit)
        result = await run_ask(
            request, AskContext(runtime=runtime, knowledge=runtime, stream=False)
        )
        return {
            "answer": result.answer,
            "status": result.status,
            "model": result.model,
            "sources": [
                source.model_dump(mode="json", include={"n", "path", "title", "heading", "score"})
                for source in result.sources
            ],
        }

    return ask
