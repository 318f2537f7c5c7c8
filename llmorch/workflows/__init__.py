"""Workflows: typed pipelines over the model, the tools and the notes, where they are found, and
the one entry point every surface runs them through."""

from typing import TYPE_CHECKING

from llmorch.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llmorch.workflows.ask import AskRequest, AskResult
    from llmorch.workflows.asking import run_ask
    from llmorch.workflows.definition import Workflow, WorkflowContext
    from llmorch.workflows.execute import WorkflowOutcome, run_workflow
    from llmorch.workflows.registry import WorkflowRegistry
    from llmorch.workflows.runtime import Runtime

__all__ = [
    "AskRequest",
    "AskResult",
    "Runtime",
    "Workflow",
    "WorkflowContext",
    "WorkflowOutcome",
    "WorkflowRegistry",
    "run_ask",
    "run_workflow",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ask": ["AskRequest", "AskResult"],
        "asking": ["run_ask"],
        "definition": ["Workflow", "WorkflowContext"],
        "execute": ["WorkflowOutcome", "run_workflow"],
        "registry": ["WorkflowRegistry"],
        "runtime": ["Runtime"],
    },
)
