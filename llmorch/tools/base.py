"""`Tool`, the `@tool` decorator that builds one from a typed function, and `ToolRegistry`.

A tool's JSON Schema comes from its signature and docstring, never written by hand — except for
tools from elsewhere (MCP servers), whose schema is given and validated as it is. Running a tool
validates the arguments, asks for approval where required, bounds its time and caps the size of
what goes back to the model.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_type_hints, overload

from pydantic import BaseModel, ValidationError, create_model

from llmorch.errors import LlmorchError, ToolError
from llmorch.logging import logger
from llmorch.runs.observer import ToolCallRecord
from llmorch.tools.definition import ToolDefinition

if TYPE_CHECKING:
    from llmorch.tools.approval import ApprovalGate

ToolFunction = Callable[..., Awaitable[Any]] | Callable[..., Any]

_SECTION_HEADER = re.compile(r"^(\w+):\s*$")
_ARGS_SECTIONS = ("Args", "Arguments", "Parameters")
_ARG_LINE = re.compile(r"^\s+(\w+)\s*(?:\([^)]*\))?:\s*(.+)$")


@dataclass(frozen=True, slots=True)
class Tool:
    """A callable the model can use: its arguments are a pydantic model, its result any value.

    A tool with an `input_schema` (from an MCP server) is described and validated by that schema
    as given, and its function receives the arguments as one dict.
    """

    name: str
    description: str
    args_model: type[BaseModel]
    function: ToolFunction
    timeout_s: float | None = None
    input_schema: dict[str, Any] | None = None
    read_only: bool = False
    origin: str = "llmorch"

    def definition(self) -> ToolDefinition:
        parameters = (
            self.input_schema if self.input_schema is not None else _schema(self.args_model)
        )
        return ToolDefinition(name=self.name, description=self.description, parameters=parameters)

    def validate(self, arguments: Mapping[str, Any]) -> BaseModel:
        """The arguments checked against the tool's schema; a ValidationError or ToolError if not."""
        if self.input_schema is not None:
            from llmorch.tools.given_schema import check_against_schema

            check_against_schema(self.name, self.input_schema, arguments)
        return self.args_model.model_validate(dict(arguments))

    async def invoke(self, args: BaseModel) -> Any:
        """Call the function with validated arguments; sync functions run in a worker thread."""
        if self.input_schema is not None:
            return await self.function(args.model_dump())
        kwargs = {name: getattr(args, name) for name in type(args).model_fields}
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**kwargs)
        return await asyncio.to_thread(self.function, **kwargs)


@overload
def tool(function: ToolFunction, /) -> Tool: ...


@overload
def tool(
    *, name: str | None = None, timeout_s: float | None = None, read_only: bool = False
) -> Callable[[ToolFunction], Tool]: ...


def tool(
    function: ToolFunction | None = None,
    /,
    *,
    name: str | None = None,
    timeout_s: float | None = None,
    read_only: bool = False,
) -> Tool | Callable[[ToolFunction], Tool]:
    """Build a Tool from a typed function: parameters become the arguments model, the docstring
    (up to its first section) the description, and its `Args:` lines the argument descriptions.
    `read_only` says it changes nothing (MCP clients and the approval gate read it)."""

    def build(fn: ToolFunction) -> Tool:
        tool_name = name or fn.__name__
        summary, arg_docs = _parse_docstring(inspect.getdoc(fn) or "")
        if not summary:
            raise TypeError(f"tool {tool_name!r} needs a docstring: the model reads it")
        return Tool(
            name=tool_name,
            description=summary,
            args_model=_arguments_model(fn, tool_name, arg_docs),
            function=fn,
            timeout_s=timeout_s,
            read_only=read_only,
        )

    return build if function is None else build(function)


def _arguments_model(fn: ToolFunction, tool_name: str, docs: dict[str, str]) -> type[BaseModel]:
    from pydantic import Field

    hints = get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {tool_name!r}: *args/**kwargs cannot be described to a model")
        if param.name not in hints:
            raise TypeError(f"tool {tool_name!r}: parameter {param.name!r} needs a type")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (
            hints[param.name],
            Field(default=default, description=docs.get(param.name)),
        )
    return create_model(f"{tool_name}_arguments", **fields)


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The text before any section header, and `name: description` lines under `Args:`."""
    summary: list[str] = []
    arg_docs: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in doc.splitlines():
        header = _SECTION_HEADER.match(line)
        if header:
            section, current = header.group(1), None
        elif section is None:
            summary.append(line)
        elif section in _ARGS_SECTIONS and (match := _ARG_LINE.match(line)):
            current = str(match.group(1))
            arg_docs[current] = str(match.group(2)).strip()
        elif current is not None and line[:1].isspace() and line.strip():
            arg_docs[current] += " " + line.strip()
    return " ".join(" ".join(summary).split()), arg_docs


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema without pydantic's titles: small models read every token."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)  # pyright: ignore[reportUnknownMemberType]
    return schema


RECORD_EXCERPT_CHARS = 1000


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What one call did: `content` is what the model reads, `value` what the function returned."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    content: str
    duration_s: float
    value: Any = None
    error: str | None = None
    truncated: bool = False

    def record(self, call_id: str, iteration: int = 0) -> ToolCallRecord:
        """This call as run records keep it: enough of the result to see what the model got."""
        return ToolCallRecord(
            id=call_id,
            name=self.name,
            arguments=self.arguments,
            ok=self.ok,
            duration_s=self.duration_s,
            iteration=iteration,
            error=self.error,
            truncated=self.truncated,
            result_excerpt=self.content[:RECORD_EXCERPT_CHARS],
        )

    def raise_for_error(self) -> ToolResult:
        if not self.ok:
            raise ToolError(f"tool {self.name} failed: {self.error}")
        return self


class ToolRegistry:
    """Tools by name. Names are unique: a second tool with a taken name is refused."""

    def __init__(
        self,
        tools: Iterable[Tool] = (),
        *,
        timeout_s: float = 30.0,
        max_result_chars: int = 8000,
        approval: ApprovalGate | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_result_chars = max_result_chars
        self.approval = approval
        self.unavailable: dict[str, str] = {}
        """Sources whose tools could not be loaded (an MCP server that failed), with the reason."""
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.register(t)

    def register(self, new: Tool) -> Tool:
        if new.name in self._tools:
            raise ToolError(f"a tool named {new.name!r} is already registered")
        self._tools[new.name] = new
        return new

    def get(self, name: str) -> Tool:
        found = self._tools.get(name)
        if found is None:
            raise ToolError(self._unknown(name))
        return found

    def _unknown(self, name: str) -> str:
        message = f"unknown tool {name!r}; available tools: {', '.join(self._tools) or 'none'}"
        down = "; ".join(f"{source}: {why}" for source, why in self.unavailable.items())
        return f"{message} (unavailable: {down})" if down else message

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

    def definitions(self) -> list[ToolDefinition]:
        return [t.definition() for t in self._tools.values()]

    async def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        """Run one tool. Its failures (unknown, invalid arguments, timeout, exception) come back
        as a result with ok=False and a message the model can act on; nothing is raised."""
        started = time.perf_counter()
        args = dict(arguments)

        def failed(error: str) -> ToolResult:
            return ToolResult(
                name=name,
                arguments=args,
                ok=False,
                content=f"error: {error}",
                duration_s=time.perf_counter() - started,
                error=error,
            )

        found = self._tools.get(name)
        if found is None:
            return failed(self._unknown(name))
        try:
            validated = found.validate(args)
        except ValidationError as exc:
            return failed(f"invalid arguments for {name}: {describe_validation_error(exc)}")
        except ToolError as exc:
            return failed(str(exc))
        if self.approval is not None and (refusal := await self.approval.refusal(found, args)):
            return failed(refusal)
        limit = found.timeout_s or self.timeout_s
        try:
            async with asyncio.timeout(limit):
                value = await found.invoke(validated)
        except TimeoutError:
            return failed(f"{name} timed out after {limit:g}s")
        except LlmorchError as exc:
            return failed(str(exc))
        except Exception as exc:
            # The model gets the error to recover from; the traceback goes to the debug log.
            logger.opt(exception=exc).debug("tool {} raised", name)
            return failed(f"{name} raised {type(exc).__name__}: {exc}")
        content, truncated = serialize_result(value, self.max_result_chars)
        return ToolResult(
            name=name,
            arguments=args,
            ok=True,
            content=content,
            duration_s=time.perf_counter() - started,
            value=value,
            truncated=truncated,
        )


def describe_validation_error(exc: ValidationError) -> str:
    """Each problem as `field: message`, joined on one line, e.g. `limit: Input should be ...`."""
    parts: list[str] = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def serialize_result(value: Any, max_chars: int) -> tuple[str, bool]:
    """Text for the model: strings as they are, models and containers as JSON, capped in size."""
    text = _to_text(value)
    if len(text) <= max_chars:
        return text, False
    marker = f"\n…[truncated: showing {{shown}} of {len(text)} characters]"
    shown = max(0, max_chars - len(marker) - 8)
    return text[:shown] + marker.format(shown=shown), True


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if value is None:
        return "null"
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)
