"""`--schema SPEC` as a pydantic model: a JSON Schema file, inline JSON, or a short field list.

The short form is `"title, due: date, priority: int, tags: list[str], note?: str"`: untyped fields
are strings, `?` makes a field optional. JSON Schemas may use object, string (with date /
date-time formats and enums), integer, number, boolean, array and nested objects.
"""

from __future__ import annotations

import json
import re
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, Field, create_model

from llmorch.errors import SchemaError

_SCALARS: dict[str, Any] = {
    "str": str,
    "string": str,
    "text": str,
    "int": int,
    "integer": int,
    "float": float,
    "number": float,
    "bool": bool,
    "boolean": bool,
    "date": date,
    "datetime": datetime,
}
_SHORT_FIELD = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?P<optional>\?)?\s*(?::\s*(?P<type>.+))?$")
_LIST_TYPE = re.compile(r"^list\[(?P<item>\w+)\]$")
_JSON_TYPES: dict[str, Any] = {"integer": int, "number": float, "boolean": bool}
_STRING_FORMATS: dict[str, Any] = {"date": date, "date-time": datetime}


def model_from_spec(spec: str, *, name: str = "Answer") -> type[BaseModel]:
    """The pydantic model `spec` describes; a SchemaError (exit 2) says what is wrong with it."""
    text = spec.strip()
    if not text:
        raise SchemaError("the schema is empty", hint='e.g. --schema "title, due: date"')
    if text.startswith("{"):
        return model_from_json_schema(_load_json(text, "the inline schema"), name=name)
    path = Path(text).expanduser()
    if path.suffix == ".json" or path.is_file():
        return model_from_json_schema(_read_schema_file(path), name=name)
    return _model_from_fields(text, name)


def model_from_json_schema(schema: Any, *, name: str = "Answer") -> type[BaseModel]:
    """A model for a JSON Schema of an object with properties."""
    if not isinstance(schema, dict):
        raise SchemaError("a JSON Schema must be an object")
    typed = cast("dict[str, Any]", schema)
    return _object_model(typed, str(typed.get("title") or name), "schema")


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SchemaError(f"{what} is not valid JSON: {exc}") from exc


def _read_schema_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"cannot read the schema file {path}: {exc.strerror or exc}") from exc
    return _load_json(text, f"the schema file {path}")


def _model_from_fields(text: str, name: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        match = _SHORT_FIELD.match(part)
        if match is None:
            raise SchemaError(f"cannot read the field {part!r}", hint="write it as name: type")
        field_name = match["name"]
        if field_name in fields:
            raise SchemaError(f"the field {field_name!r} is given twice")
        kind = _short_type(match["type"] or "str", field_name)
        fields[field_name] = (kind | None, None) if match["optional"] else (kind, ...)
    return _create(name, fields)


def _short_type(text: str, field_name: str) -> Any:
    written = text.strip().lower()
    if listed := _LIST_TYPE.match(written):
        return list[_short_type(listed["item"], field_name)]
    if written not in _SCALARS:
        known = ", ".join(sorted({*_SCALARS, "list[...]"}))
        raise SchemaError(f"unknown type {text.strip()!r} for {field_name!r}", hint=f"use {known}")
    return _SCALARS[written]


def _object_model(schema: dict[str, Any], name: str, where: str) -> type[BaseModel]:
    if schema.get("type", "object") != "object":
        raise SchemaError(f"{where} must be an object, not {schema.get('type')!r}")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise SchemaError(f"{where} has no properties")
    required = set(cast("list[str]", schema.get("required", [])))
    fields: dict[str, Any] = {}
    for prop, raw in cast("dict[str, Any]", properties).items():
        if not isinstance(raw, dict):
            raise SchemaError(f"{where}.{prop} must be a schema object")
        sub = cast("dict[str, Any]", raw)
        kind = _json_type(sub, f"{where}.{prop}", _model_name(name, prop))
        info = Field(description=sub.get("description"))
        if prop in required:
            fields[prop] = (kind, info)
        else:
            fields[prop] = (kind | None, Field(default=None, description=sub.get("description")))
    return _create(_model_name(name, ""), fields)


def _json_type(schema: dict[str, Any], where: str, name: str) -> Any:
    if "enum" in schema:
        values = schema["enum"]
        if not isinstance(values, list) or not values:
            raise SchemaError(f"{where}: enum must be a non-empty list")
        return Literal[tuple(cast("list[Any]", values))]  # pyright: ignore[reportInvalidTypeForm]
    kind = schema.get("type")
    if kind == "string":
        return _STRING_FORMATS.get(str(schema.get("format")), str)
    if kind in _JSON_TYPES:
        return _JSON_TYPES[kind]
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, dict):
            raise SchemaError(f"{where}: an array needs an items schema")
        return list[_json_type(cast("dict[str, Any]", items), f"{where}[]", name)]
    if kind == "object":
        return _object_model(schema, name, where)
    raise SchemaError(f"{where}: unsupported type {kind!r}", hint=f"use {', '.join(_SUPPORTED)}")


_SUPPORTED = ("object", "string", "integer", "number", "boolean", "array", "enum")


def _create(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    # A user's field may be called `copy` or `schema`: shadowing BaseModel's attribute is harmless
    # for a model that is only validated and dumped, so pydantic's warning would only be noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return create_model(name, **fields)


def _model_name(parent: str, prop: str) -> str:
    base = re.sub(r"\W", "", parent.title().replace(" ", "")) or "Answer"
    return base + prop.title().replace("_", "") if prop else base
