"""Structured output: ask a model for an answer that validates as a pydantic model.

Where the server enforces `response_format` (llama.cpp constrains decoding with a grammar, OpenAI
natively) it is sent; where the server says nothing it is tried, and a rejection falls back to a
prompted JSON answer. Answers are repaired (json-repair) and validated; a bounded number of
retries show the model its validation errors, and a typed error names the fields when all fail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from llmorch.errors import LlmError, StructuredOutputError
from llmorch.llm.messages import AssistantMessage, Message, SystemMessage, Usage, UserMessage
from llmorch.llm.model import ChatModel, JsonSchemaFormat
from llmorch.logging import logger

T = TypeVar("T", bound=BaseModel)

DEFAULT_RETRIES = 2
_REJECTED_STATUS = (400, 422, 500)  # llama-cpp-python answers an unknown response_format with 500
_MAX_ERRORS_SHOWN = 6


@dataclass(frozen=True)
class Structured(Generic[T]):
    """The validated value, what it cost, and how it was obtained."""

    value: T
    usage: Usage
    mode: Literal["json_schema", "prompted"]
    attempts: int


async def structured_output(
    model: ChatModel,
    messages: Sequence[Message],
    output: type[T],
    *,
    retries: int = DEFAULT_RETRIES,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Structured[T]:
    """Ask `model` until its answer validates as `output`: at most `1 + retries` answers."""
    schema = output.model_json_schema()
    capable = (await model.capabilities()).json_schema
    use_format = capable is not False
    fmt = JsonSchemaFormat(name=output.__name__, schema=schema)
    conversation: list[Message] = [*messages, UserMessage(content=_instruction(schema))]
    usage = Usage()
    errors: ValidationError | None = None
    attempt = 0
    while attempt <= retries:
        try:
            completion = await model.complete(
                conversation,
                temperature=temperature,
                max_tokens=max_tokens,
                response_format=fmt if use_format else None,
            )
        except LlmError as exc:
            if not (use_format and capable is None and _rejected_format(exc)):
                raise
            logger.info("the server rejected response_format ({}); asking for JSON instead", exc)
            use_format = False
            continue
        attempt += 1
        usage = usage + (completion.usage or Usage())
        text = completion.message.content or ""
        try:
            value = output.model_validate(_parse(text))
        except ValidationError as invalid:
            errors = invalid
            logger.info("structured answer {} did not validate: {}", attempt, _summary(invalid))
            conversation += [
                AssistantMessage(content=text),
                UserMessage(content=_correction(invalid)),
            ]
            continue
        mode: Literal["json_schema", "prompted"] = "json_schema" if use_format else "prompted"
        return Structured(value, usage, mode, attempt)
    assert errors is not None  # the loop only ends here after a failed validation
    raise _failed(output, errors, attempt)


def system_for_json(task: str) -> SystemMessage:
    """A system turn for a task whose answer is one JSON object."""
    return SystemMessage(content=f"{task} Answer with one JSON object and nothing else.")


def _instruction(schema: dict[str, Any]) -> str:
    return (
        "Answer with one JSON object that validates against this JSON Schema, and nothing "
        f"else:\n{json.dumps(schema, separators=(',', ':'))}"
    )


def _parse(text: str) -> Any:
    """Strict JSON first, then json-repair (fences, trailing commas, prose around the object)."""
    try:
        return json.loads(text)
    except ValueError:
        import json_repair

        return json_repair.loads(text)


def _correction(invalid: ValidationError) -> str:
    return (
        f"That answer is not valid: {_summary(invalid)}. "
        "Answer again with one corrected JSON object only."
    )


def _summary(invalid: ValidationError) -> str:
    shown = [f"{_where(e['loc'])}: {e['msg']}" for e in invalid.errors()[:_MAX_ERRORS_SHOWN]]
    return "; ".join(shown)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(the whole answer)"


def _failed(
    output: type[BaseModel], invalid: ValidationError, attempts: int
) -> StructuredOutputError:
    fields = sorted({_where(e["loc"]) for e in invalid.errors()})
    return StructuredOutputError(
        f"the model's answer did not validate as {output.__name__} after {attempts} "
        f"attempt(s); invalid: {', '.join(fields)}",
        fields=fields,
        hint="try a larger model, or a simpler schema",
    )


def _rejected_format(exc: LlmError) -> bool:
    """Whether the server refused the request itself (not the model failing to answer)."""
    status = getattr(exc.__cause__, "status_code", None)
    return status in _REJECTED_STATUS
