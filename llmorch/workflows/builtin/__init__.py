"""The workflows that ship with llmorch, by module name; each module exposes `WORKFLOW`."""

BUILTIN_MODULES = ("research", "summarize", "digest", "extract")
