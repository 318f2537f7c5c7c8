"""Tools built from typed functions, the registry, and safe execution."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from llmorch.errors import ToolError
from llmorch.tools.base import Tool, ToolRegistry, serialize_result, tool


@tool
async def add(a: int, b: Annotated[int, Field(ge=0)] = 1) -> int:
    """Add two whole numbers.

    Args:
        a: The first number.
        b: The second number, never negative;
            defaults to one.

    Returns:
        The sum.
    """
    return a + b


def test_decorator_builds_the_schema_and_description_from_signature_and_docstring() -> None:
    definition = add.definition()
    assert definition.name == "add"
    assert definition.description == "Add two whole numbers."
    assert definition.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "The first number."},
            "b": {
                "type": "integer",
                "minimum": 0,
                "default": 1,
                "description": "The second number, never negative; defaults to one.",
            },
        },
        "required": ["a"],
    }


def test_decorator_takes_a_name_and_a_timeout() -> None:
    @tool(name="ping_server", timeout_s=2.5)
    def ping() -> str:
        """Answer pong."""
        return "pong"

    assert (ping.name, ping.timeout_s) == ("ping_server", 2.5)


def test_a_tool_without_docstring_or_with_untyped_parameters_is_refused() -> None:
    def undocumented(x: int) -> int:
        return x

    def untyped(x) -> int:  # type: ignore[no-untyped-def]
        """Untyped."""
        return 1

    with pytest.raises(TypeError, match="needs a docstring"):
        tool(undocumented)
    with pytest.raises(TypeError, match="needs a type"):
        tool(untyped)


def test_registry_refuses_a_duplicate_name() -> None:
    registry = ToolRegistry([add])
    with pytest.raises(ToolError, match="'add' is already registered"):
        registry.register(add)


def test_registry_lookup_of_an_unknown_tool_lists_the_available_ones() -> None:
    with pytest.raises(ToolError, match=r"unknown tool .sub.; available tools: add"):
        ToolRegistry([add]).get("sub")


async def test_call_validates_and_runs_async_and_sync_tools() -> None:
    @tool
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    registry = ToolRegistry([add, shout])
    added = await registry.call("add", {"a": "2", "b": 3})
    shouted = await registry.call("shout", {"text": "hi"})
    assert (added.ok, added.value, added.content) == (True, 5, "5")
    assert (shouted.ok, shouted.content) == (True, "HI")
    assert added.duration_s >= 0


async def test_invalid_arguments_come_back_with_the_validation_details() -> None:
    result = await ToolRegistry([add]).call("add", {"b": -1})
    assert not result.ok
    assert result.error is not None
    assert "invalid arguments for add" in result.error
    assert "a: Field required" in result.error
    assert "b: Input should be greater than or equal to 0" in result.error
    assert result.content.startswith("error: ")


async def test_unknown_tool_comes_back_as_an_error_result_not_an_exception() -> None:
    result = await ToolRegistry([add]).call("multiply", {})
    assert not result.ok
    assert result.error == "unknown tool 'multiply'; available tools: add"


async def test_a_raising_tool_comes_back_as_an_error_result_naming_the_exception() -> None:
    @tool
    async def explode() -> str:
        """Always fails."""
        raise RuntimeError("disk on fire")

    result = await ToolRegistry([explode]).call("explode", {})
    assert not result.ok
    assert result.error == "explode raised RuntimeError: disk on fire"
    with pytest.raises(ToolError, match="tool explode failed: explode raised RuntimeError"):
        result.raise_for_error()


async def test_a_slow_tool_is_stopped_at_its_timeout() -> None:
    started = asyncio.Event()

    @tool(timeout_s=0.05)
    async def hang() -> str:
        """Never returns."""
        started.set()
        await asyncio.Event().wait()
        return "unreachable"

    result = await ToolRegistry([hang], timeout_s=60).call("hang", {})
    assert started.is_set()
    assert not result.ok
    assert result.error == "hang timed out after 0.05s"


async def test_registry_timeout_applies_when_the_tool_sets_none() -> None:
    @tool
    async def hang() -> str:
        """Never returns."""
        await asyncio.Event().wait()
        return "unreachable"

    result = await ToolRegistry([hang], timeout_s=0.02).call("hang", {})
    assert result.error == "hang timed out after 0.02s"


async def test_a_huge_result_is_capped_with_a_visible_marker() -> None:
    @tool
    def dump() -> str:
        """Return a lot."""
        return "x" * 100_000

    result = await ToolRegistry([dump], max_result_chars=1000).call("dump", {})
    assert result.ok and result.truncated
    assert len(result.content) <= 1000
    assert result.content.endswith("of 100000 characters]")


class Point(BaseModel):
    x: int
    y: int


def test_results_are_serialised_as_json_for_models_and_containers() -> None:
    assert serialize_result(Point(x=1, y=2), 100) == ('{"x":1,"y":2}', False)
    text, truncated = serialize_result([Point(x=1, y=2), {"k": "é"}], 100)
    assert json.loads(text) == [{"x": 1, "y": 2}, {"k": "é"}]
    assert not truncated
    assert serialize_result(None, 100) == ("null", False)


def test_a_tool_can_be_built_directly_from_a_pydantic_model() -> None:
    class Args(BaseModel):
        name: str

    def greet(name: str) -> str:
        return f"hello {name}"

    direct = Tool(name="greet", description="Greet someone.", args_model=Args, function=greet)
    assert direct.definition().parameters["required"] == ["name"]
