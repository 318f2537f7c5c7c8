"""Validation of arguments against a JSON Schema given by someone else (an MCP server), as given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmorch.errors import ToolError


def check_against_schema(name: str, schema: dict[str, Any], arguments: Mapping[str, Any]) -> None:
    """ToolError naming each problem as `field: message` when `arguments` break `schema`."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        validator = Draft202012Validator(schema)
        found = validator.iter_errors(dict(arguments))  # pyright: ignore[reportUnknownMemberType]
        errors = sorted(found, key=lambda e: list(e.path))
    except SchemaError as exc:
        raise ToolError(f"{name} publishes an invalid input schema: {exc.message}") from exc
    if errors:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.absolute_path) or 'arguments'}: {e.message}"
            for e in errors
        )
        raise ToolError(f"invalid arguments for {name}: {problems}")
