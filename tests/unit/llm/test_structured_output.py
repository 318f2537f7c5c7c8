"""Structured output: constrained where the server can, prompted and repaired where not, retried
with the validation errors shown, and a typed error naming the fields when every answer fails."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from llmorch.errors import LlmError, SchemaError, StructuredOutputError
from llmorch.llm.messages import UserMessage
from llmorch.llm.model import ModelCapabilities
from llmorch.llm.schema_spec import model_from_spec
from llmorch.llm.structured import structured_output
from llmorch.llm.testing import ScriptedModel


class Task(BaseModel):
    title: str
    priority: int


ASK = [UserMessage(content="Buy milk, urgent")]


class _Rejected(Exception):
    status_code = 500


def _rejection() -> LlmError:
    error = LlmError("the server rejected response_format")
    error.__cause__ = _Rejected()
    return error


async def test_a_server_that_enforces_schemas_gets_response_format() -> None:
    model = ScriptedModel(
        ['{"title": "milk", "priority": 1}'], capabilities=ModelCapabilities(json_schema=True)
    )
    result = await structured_output(model, ASK, Task)
    assert result.value == Task(title="milk", priority=1)
    assert result.mode == "json_schema"
    fmt = model.calls[0].response_format
    assert fmt is not None and fmt.json_schema["required"] == ["title", "priority"]


async def test_a_server_without_schemas_is_prompted_with_the_schema() -> None:
    model = ScriptedModel(
        ['{"title": "milk", "priority": 1}'], capabilities=ModelCapabilities(json_schema=False)
    )
    result = await structured_output(model, ASK, Task)
    assert result.mode == "prompted"
    assert model.calls[0].response_format is None
    assert '"priority"' in model.calls[0].last_user_text()


async def test_an_unknown_server_that_rejects_response_format_is_asked_again_prompted() -> None:
    model = ScriptedModel([_rejection(), '{"title": "milk", "priority": 2}'])
    result = await structured_output(model, ASK, Task)
    assert result.value.priority == 2
    assert result.mode == "prompted"
    assert result.attempts == 1
    assert [c.response_format is None for c in model.calls] == [False, True]


async def test_other_model_errors_are_not_mistaken_for_a_rejected_format() -> None:
    model = ScriptedModel([LlmError("context too long")])
    with pytest.raises(LlmError, match="context too long"):
        await structured_output(model, ASK, Task)


async def test_broken_json_is_repaired_before_validation() -> None:
    fenced = 'Sure! ```json\n{"title": "milk", "priority": 3,}\n```'
    result = await structured_output(ScriptedModel([fenced]), ASK, Task)
    assert result.value == Task(title="milk", priority=3)


async def test_a_retry_shows_the_model_its_validation_errors() -> None:
    model = ScriptedModel(
        ['{"title": "milk", "priority": "soon"}', '{"title": "milk", "priority": 1}']
    )
    result = await structured_output(model, ASK, Task)
    assert result.attempts == 2
    correction = model.calls[1].last_user_text()
    assert "priority" in correction and "not valid" in correction


async def test_when_every_answer_fails_the_error_names_the_fields() -> None:
    model = ScriptedModel(['{"title": 1}'] * 3)
    with pytest.raises(StructuredOutputError) as caught:
        await structured_output(model, ASK, Task, retries=2)
    assert caught.value.fields == ["priority", "title"]
    assert caught.value.exit_code == 5
    assert len(model.calls) == 3


def test_short_field_list_builds_a_typed_model() -> None:
    model = model_from_spec("title, due: date, priority: int, tags: list[str], note?: str")
    value = model.model_validate(
        {"title": "t", "due": "2026-12-01", "priority": "2", "tags": ["a"]}
    )
    assert value.model_dump() == {
        "title": "t", "due": date(2026, 12, 1), "priority": 2, "tags": ["a"], "note": None,
    }  # fmt: skip
    assert model.model_json_schema()["required"] == ["title", "due", "priority", "tags"]


def test_inline_json_schema_and_a_schema_file_build_the_same_model(
    tmp_path: Path,
) -> None:
    schema = (
        '{"type": "object", "properties": {"level": {"enum": ["low", "high"]},'
        ' "steps": {"type": "array", "items": {"type": "object", "properties":'
        ' {"n": {"type": "integer"}}, "required": ["n"]}}}, "required": ["level"]}'
    )
    file = tmp_path / "schema.json"
    file.write_text(schema)
    for spec in (schema, str(file)):
        model = model_from_spec(spec)
        assert model.model_validate({"level": "low", "steps": [{"n": 1}]}).model_dump() == {
            "level": "low", "steps": [{"n": 1}],
        }  # fmt: skip
        with pytest.raises(ValueError):
            model.model_validate({"level": "medium"})


def test_fields_named_like_model_attributes_are_plain_fields() -> None:
    model = model_from_spec("schema: int, copy, json?: date")
    assert model.model_validate({"schema": 1, "copy": "a"}).model_dump() == {
        "schema": 1, "copy": "a", "json": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("title: colour", "unknown type 'colour'"),
        ("a, a", "given twice"),
        ("{not json", "not valid JSON"),
        ('{"type": "array"}', "must be an object"),
        ('{"type": "object", "properties": {"x": {"type": "null"}}}', "unsupported type"),
        ("missing.json", "cannot read the schema file"),
    ],
)
def test_an_invalid_schema_is_a_usage_error(spec: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message) as caught:
        model_from_spec(spec)
    assert caught.value.exit_code == 2
