"""Workflow input typed as FIELD=VALUE pairs, read the same way by `llmorch run`, chat's `/run`
and the Telegram bot's `/run`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from llmorch.errors import UsageError

if TYPE_CHECKING:
    from llmorch.config import Settings


def read_run_line(line: str, settings: Settings) -> tuple[str, dict[str, Any]]:
    """`NAME FIELD=VALUE ...` (shell quoting) as the workflow's name and its raw input."""
    import shlex

    from llmorch.workflows.registry import WorkflowRegistry

    try:
        name, *pairs = shlex.split(line)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"cannot read the arguments: {exc}") from exc
    workflow = WorkflowRegistry.discover(settings).get(name)
    return name, parse_fields(workflow.input_model, pairs)


def parse_fields(model: type[BaseModel], pairs: list[str]) -> dict[str, Any]:
    """FIELD=VALUE pairs as the model's input: text fields stay text, list fields collect each
    repeat (or take a JSON array), other values are read as JSON when they parse (`limit=3`,
    `draft=true`), left as text otherwise for the model to accept or name as invalid."""
    properties: dict[str, Any] = model.model_json_schema().get("properties", {})
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected FIELD=VALUE, got {pair!r}")
        kind = properties.get(key, {}).get("type")
        if kind == "array":
            items = _json_or_text(value)
            data.setdefault(key, []).extend(items if isinstance(items, list) else [value])
        else:
            data[key] = value if kind == "string" else _json_or_text(value)
    return data


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
