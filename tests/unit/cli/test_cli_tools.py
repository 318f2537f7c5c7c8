from __future__ import annotations

import json
from pathlib import Path

import yaml
from cli_invoke import Invoke


def test_tools_list_names_every_default_tool(cli: Invoke) -> None:
    result = cli("tools", "list")
    assert result.exit_code == 0, result.output
    assert "search_knowledge_base" in result.stdout and "read_note" in result.stdout


def test_tools_list_works_before_any_ingest_and_as_json(cli: Invoke) -> None:
    tools = json.loads(cli("tools", "list", "--json").stdout)
    assert {t["name"] for t in tools} == {"search_knowledge_base", "read_note"}


def test_tools_show_prints_the_json_schema_the_model_gets(cli: Invoke) -> None:
    shown = json.loads(cli("tools", "show", "search_knowledge_base").stdout)
    assert shown["parameters"]["required"] == ["query"]
    assert shown["parameters"]["properties"]["limit"]["maximum"] == 20


def test_tools_run_calls_search_against_the_index(cli: Invoke, indexed: Path) -> None:
    result = cli("tools", "run", "search_knowledge_base", "--args", '{"query": "tomatoes"}')
    assert result.exit_code == 0, result.output
    passages = json.loads(result.stdout)
    assert passages[0]["source"].startswith("Garden.md")


def test_tools_run_with_invalid_arguments_is_exit_7_naming_the_field(
    cli: Invoke, indexed: Path
) -> None:
    result = cli("tools", "run", "search_knowledge_base", "--args", '{"limit": 0}')
    assert result.exit_code == 7
    assert "query" in result.stderr and "Traceback" not in result.stderr


def test_tools_run_of_an_unknown_tool_lists_the_known_ones(cli: Invoke) -> None:
    result = cli("tools", "run", "nope")
    assert result.exit_code == 7
    assert "read_note" in result.stderr


def test_tools_run_with_malformed_json_is_a_usage_error(cli: Invoke) -> None:
    assert cli("tools", "run", "read_note", "--args", "{path:").exit_code == 2
    assert cli("tools", "run", "read_note", "--args", "[1]").exit_code == 2


def test_read_note_reads_inside_the_note_roots_and_refuses_outside(
    cli: Invoke, config: Path, vault: Path, tmp_path: Path
) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["tools"] = {"note_roots": [str(vault)]}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    inside = cli("tools", "run", "read_note", "--args", '{"path": "Garden.md"}')
    assert inside.exit_code == 0, inside.output
    assert "Water the tomatoes" in inside.stdout
    secret = tmp_path / "secret.md"
    secret.write_text("top secret", encoding="utf-8")
    outside = cli("tools", "run", "read_note", "--args", json.dumps({"path": str(secret)}))
    assert outside.exit_code == 7
    assert "outside" in outside.stderr and "top secret" not in outside.stdout


def test_read_note_without_configured_roots_reads_where_notes_were_ingested(
    cli: Invoke, indexed: Path
) -> None:
    result = cli("tools", "run", "read_note", "--args", '{"path": "Garden.md"}')
    assert result.exit_code == 0, result.output
    assert "Water the tomatoes" in result.stdout
