"""The tools llmorch publishes over MCP: the notes' own tools, `ask`, and the workflows — one
ToolRegistry, so MCP clients get the same schemas, validation and timeouts as the model does.
Every run goes through `run_workflow` with trigger "mcp", so it leaves the same record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmorch.tools.base import Tool, ToolRegistry, tool

if TYPE_CHECKING:
    from llmorch.workflows.registry import WorkflowRegistry
    from llmorch.workflows.runtime import Runtime

TRIGGER = "mcp"


_MCP_RESULT_CHARS = 100_000


def published_registry(runtime: Runtime) -> ToolRegistry:
    """search_knowledge_base, read_note, ask, list_workflows and run_workflow."""
    from llmorch.tools.defaults import build_default_registry
    from llmorch.workflows.registry import WorkflowRegistry

    workflows = WorkflowRegistry.discover(runtime.settings)
    registry = build_default_registry(runtime.settings, runtime, note_roots=runtime.note_roots)
    # tools.max_result_chars protects a small local model's context; an MCP client's host bounds
    # what it shows itself, and a cut would leave list_workflows' JSON unreadable.
    registry.max_result_chars = max(registry.max_result_chars, _MCP_RESULT_CHARS)
    registry.register(ask_tool(runtime))
    registry.register(list_workflows_tool(workflows))
    registry.register(run_workflow_tool(workflows, runtime))
    return registry


def list_workflows_tool(workflows: WorkflowRegistry) -> Tool:
    @tool(read_only=True)
    def list_workflows() -> list[dict[str, Any]]:
        """List the workflows run_workflow can run, each with its description and the JSON Schema
        of its input."""
        return [
            {
                "name": w.name,
                "description": w.description,
                "source": w.source,
                "input_schema": w.input_model.model_json_schema(),
            }
            for w in workflows.workflows()
        ]

    return list_workflows


def run_workflow_tool(workflows: WorkflowRegistry, runtime: Runtime) -> Tool:
    """`run_workflow`: its schema names every workflow and carries each one's input schema."""
    from llmorch.workflows.execute import run_workflow

    llm = runtime.settings.llm
    names = workflows.names()
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "workflow": {"type": "string", "enum": names, "description": "Which workflow to run."},
            "input": {
                "type": "object",
                "description": "The workflow's input, as its input schema (see list_workflows) says.",
            },
        },
        "required": ["workflow", "input"],
        "additionalProperties": False,
        # Each workflow's own input schema, so a client can build the input without another call.
        "x-workflow-inputs": {
            w.name: w.input_model.model_json_schema() for w in workflows.workflows()
        },
    }

    async def run(arguments: dict[str, Any]) -> dict[str, Any]:
        workflow = workflows.get(arguments["workflow"])
        outcome = await run_workflow(
            workflow, arguments["input"], runtime, trigger=TRIGGER, stream=False
        )
        return {
            "workflow": outcome.workflow,
            "output": outcome.output.model_dump(mode="json"),
            "sources": [
                s.model_dump(mode="json", include={"n", "path", "title", "heading"})
                for s in outcome.sources
            ],
            "run_id": outcome.run_id,
        }

    return Tool(
        name="run_workflow",
        description="Run one of the user's workflows (see list_workflows) on an input and return "
        "its output. Workflows: "
        + ", ".join(f"{w.name} ({w.description})" for w in workflows.workflows()),
        args_model=_WorkflowArguments,
        function=run,
        timeout_s=llm.timeout_s * (llm.max_tool_iterations + 1),
        input_schema=schema,
        read_only=False,
    )


class _WorkflowArguments(BaseModel):
    """run_workflow's published schema validates; this only carries the arguments."""

    model_config = ConfigDict(extra="allow")


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
        from llmorch.workflows.ask import AskRequest
        from llmorch.workflows.asking import run_ask

        request = AskRequest(query=query, mode=mode, tags=tags or [], limit=limit)
        result = await run_ask(request, runtime, trigger=TRIGGER, stream=False)
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
