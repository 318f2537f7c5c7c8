"""The workflows that ship with llmorch, each a module here exposing `WORKFLOW`.

They are found the way a user's files are (a module-level `Workflow`), so the registry treats all
alike; a module is imported only when a command needs the workflows.
"""

BUILTIN_MODULES: tuple[str, ...] = (
    "llmorch.workflows.builtin.qa",
    "llmorch.workflows.builtin.agent",
    "llmorch.workflows.builtin.research",
    "llmorch.workflows.builtin.summarize",
    "llmorch.workflows.builtin.digest",
    "llmorch.workflows.builtin.extract",
    "llmorch.workflows.builtin.plain",
)
