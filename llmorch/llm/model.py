"""`ChatModel`: the one seam between llmorch and a model provider.

The tool loop, the workflows and every surface talk to this Protocol; a provider (OpenAI-compatible,
Anthropic, the scripted model for tests, a fallback chain) maps its own wire format behind it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from llmorch.llm.messages import Completion, Message
from llmorch.llm.stream import StreamEvent
from llmorch.tools.definition import ToolDefinition


class ModelCapabilities(BaseModel):
    """What a model server can do; None means it did not say (a config override may)."""

    tools: bool | None = Field(default=None, description="Native tool calls.")
    json_schema: bool | None = Field(
        default=None, description="response_format with a JSON Schema is enforced."
    )
    context_length: int | None = Field(default=None, description="Context window in tokens.")


class JsonSchemaFormat(BaseModel):
    """Ask for an answer that validates against `schema` (constrained decoding where supported)."""

    name: str = "answer"
    json_schema: dict[str, Any] = Field(alias="schema")
    strict: bool = True

    model_config = {"populate_by_name": True}


@runtime_checkable
class ChatModel(Protocol):
    """A chat model behind some provider. Implementations map failures to LlmorchError kinds."""

    @property
    def provider(self) -> str:
        """Short provider name for records and `--json`: 'openai', 'anthropic', 'scripted'."""
        ...

    @property
    def base_url(self) -> str:
        """Where the model is served (for messages and records); '' when not over HTTP."""
        ...

    async def model(self) -> str:
        """The model name requests go to (resolved from the server when unset)."""
        ...

    async def list_models(self) -> list[str]: ...

    async def capabilities(self) -> ModelCapabilities: ...

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: JsonSchemaFormat | None = None,
    ) -> Completion:
        """One whole turn. `tool_choice` is auto/none/required or a tool name to force."""
        ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Text and reasoning deltas as they arrive, then exactly one StreamDone."""
        ...

    async def aclose(self) -> None: ...
