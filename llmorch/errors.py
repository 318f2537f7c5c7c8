"""Errors a user can hit. Each kind maps to one exit code; the CLI prints the message, not a traceback."""

from __future__ import annotations

from typing import ClassVar


class LlmorchError(Exception):
    """Base of every expected failure: a one-line message for humans plus an optional hint."""

    exit_code: ClassVar[int] = 1
    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.run_id: str | None = None
        """The record of the run that failed, set by `run_workflow` when there is one."""

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} ({self.hint})"


class ConfigError(LlmorchError):
    """The configuration file, environment or flags are invalid."""

    exit_code = 3
    kind = "config"


class LlmUnreachableError(LlmorchError):
    """The model server cannot be reached at all (refused, DNS, timeout on connect)."""

    exit_code = 4
    kind = "llm_unreachable"


class LlmError(LlmorchError):
    """The model server answered, but with an error (auth, unknown model, context too long, 5xx)."""

    exit_code = 5
    kind = "llm"


class LlmUnavailableError(LlmError):
    """The model server failed in a way another server may not: 5xx, 429 after retries, a timeout,
    a dropped connection, or an answer that is not an API. Fallback profiles answer these."""


class StructuredOutputError(LlmError):
    """The model's answers never validated against the requested schema, retries included."""

    kind = "structured_output"

    def __init__(self, message: str, *, fields: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.fields = fields


class RetrievalError(LlmorchError):
    """The vector store failed: missing collection, busy index, schema mismatch."""

    exit_code = 6
    kind = "retrieval"


class IndexMissingError(RetrievalError):
    """The collection has not been created yet: nothing was ingested. Answering surfaces carry on
    from the model alone; searching ones report it."""


class ToolError(LlmorchError):
    """A tool was unknown, got invalid arguments, timed out or raised."""

    exit_code = 7
    kind = "tool"


class IngestError(LlmorchError):
    """Ingest could not run (no such path, nothing to ingest). Bad single files are skipped, not
    raised; a busy index is a RetrievalError, as it is for every reader of the index."""

    exit_code = 8
    kind = "ingest"


class RunRecordsError(LlmorchError):
    """Run records cannot be read, or no run has the id asked for. (Writing them never fails a run.)"""

    exit_code = 10
    kind = "runs"


class UsageError(LlmorchError):
    """The command was asked for something that cannot be: an unknown workflow, invalid input fields."""

    exit_code = 2
    kind = "usage"


class SchemaError(UsageError):
    """A schema the user gave (`--schema`, extract's `schema`) cannot be read or built."""

    kind = "schema"


class WorkflowError(LlmorchError):
    """A workflow's own code failed unexpectedly (a bug in a user's or a package's workflow)."""

    exit_code = 9
    kind = "workflow"


class InterruptedRunError(LlmorchError):
    """The user interrupted the run (Ctrl-C); 130 is the shell's convention for SIGINT."""

    exit_code = 130
    kind = "interrupted"


USAGE_EXIT_CODE = UsageError.exit_code
"""Typer/Click's exit code for bad usage; documented here so every exit code lives in one place."""
