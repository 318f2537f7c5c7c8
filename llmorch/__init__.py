"""llmorch: local-first, type-safe LLM orchestration. Kept import-free so start-up stays cheap."""

__version__ = "0.1.0"
