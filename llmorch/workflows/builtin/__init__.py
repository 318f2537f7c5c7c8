"""The workflows that ship with llmorch, each a module here exposing `WORKFLOW`."""

BUILTIN_MODULES: tuple[str, ...] = (
    "llmorch.workflows.builtin.research",
    "llmorch.workflows.builtin.summarize",
    "llmorch.workflows.builtin.digest",
    "llmorch.workflows.builtin.extract",
)
