"""Workflows: typed pipelines over the model, the tools and the notes, with what they run in."""

from typing import TYPE_CHECKING

from llmorch.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llmorch.workflows.ask import AskRequest, AskResult, run_ask
    from llmorch.workflows.definition import Workflow, WorkflowContext
    from llmorch.workflows.runtime import Runtime

__all__ = ["AskRequest", "AskResult", "Runtime", "Workflow", "WorkflowContext", "run_ask"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ask": ["AskRequest", "AskResult", "run_ask"],
        "definition": ["Workflow", "WorkflowContext"],
        "runtime": ["Runtime"],
    },
)
