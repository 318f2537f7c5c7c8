"""`llmorch run`, `workflows list` and `workflows show` over real workflow files, and how a bad
name, bad input or a failing workflow is reported."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli
from user_workflows import write_greet, write_raises


def test_run_coerces_field_values_through_the_input_model(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    result = cli("run", "greet", "name=Ada", "times=2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "HELLO ADA HELLO ADA\n"  # piped: only the text result, no step view
    assert result.stderr == ""


def test_run_json_prints_the_output_with_timings_and_trace(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    result = cli("run", "greet", "name=Ada", "tags=a", "tags=b", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["output"] == {"text": "HELLO ADA", "tags": ["a", "b"]}
    assert data["workflow"] == "greet"
    assert set(data["timings_ms"]) == {"greet", "shout", "total"}
    assert len(data["trace_id"]) == 32
    assert len(data["run_id"]) == 26 and data["exit_code"] == 0


def test_input_comes_from_json_a_file_or_stdin_and_fields_win(
    cli: Cli, flows: Path, tmp_path: Path
) -> None:
    write_greet(flows)
    inline = cli("run", "greet", "--input", '{"name": "Ada", "times": 2}', "times=1")
    assert inline.stdout == "HELLO ADA\n"
    file = tmp_path / "input.json"
    file.write_text('{"name": "Bo"}')
    assert cli("run", "greet", "--input", f"@{file}").stdout == "HELLO BO\n"
    assert cli("run", "greet", "--input", "-", input='{"name": "Cy"}').stdout == "HELLO CY\n"


def test_output_file_gets_the_result_and_stdout_stays_empty(
    cli: Cli, flows: Path, tmp_path: Path
) -> None:
    write_greet(flows)
    target = tmp_path / "out" / "greeting.json"
    target.parent.mkdir()
    result = cli("run", "greet", "name=Ada", "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["output"]["text"] == "HELLO ADA"


def test_invalid_input_exits_2_naming_every_bad_field(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    result = cli("run", "greet", "times=zero", "nmae=Ada")
    assert result.exit_code == 2
    error = result.stderr
    assert "nmae: unknown field" in error
    assert "name: Field required" in error
    assert "times: Input should be a valid integer" in error
    assert "Traceback" not in error


def test_bad_input_json_is_a_usage_error(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    result = cli("run", "greet", "--input", "[1, 2]")
    assert result.exit_code == 2
    assert "must hold a JSON object" in result.stderr
    result = cli("run", "greet", "--input", "@/no/such/file.json")
    assert result.exit_code == 2 and "cannot read --input file" in result.stderr


def test_unknown_workflow_exits_2_suggesting_close_names(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    result = cli("run", "gret", "name=Ada")
    assert result.exit_code == 2
    assert "no workflow named 'gret'" in result.stderr
    assert "did you mean greet" in result.stderr


def test_a_bug_in_a_workflow_is_a_workflow_error_without_traceback(cli: Cli, flows: Path) -> None:
    write_raises(flows)
    result = cli("run", "buggy")
    assert result.exit_code == 9
    assert "workflow 'buggy' failed in step 'divide': ZeroDivisionError: division by zero" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    verbose = Cli(cli.config)("-v", "run", "buggy")
    assert verbose.exit_code == 9
    assert "Traceback" in verbose.stderr and "1 / 0" in verbose.stderr


def test_an_expected_failure_keeps_its_kind_and_exit_code(cli: Cli, flows: Path) -> None:
    write_raises(flows)
    result = cli("run", "tool_fails", "--json")
    assert result.exit_code == 7
    data = json.loads(result.stdout)
    assert data["kind"] == "tool" and data["exit_code"] == 7
    assert data["error"] == "tool 'weather' timed out after 30s"


def test_workflows_list_shows_builtins_user_files_and_broken_ones(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    (flows / "typo.py").write_text("import no_such_module_here\n")
    listed = json.loads(cli("workflows", "list", "--json").stdout)
    names = {w["name"]: w["source"] for w in listed["workflows"]}
    assert names["greet"] == str(flows / "greet.py")
    assert names["qa"] == "builtin" and names["agent"] == "builtin"
    assert listed["broken"] == [
        {
            "source": str(flows / "typo.py"),
            "name": None,
            "reason": "ModuleNotFoundError: No module named 'no_such_module_here'",
        }
    ]
    table = cli("workflows", "list")
    assert table.exit_code == 0
    assert "greet" in table.stdout
    assert "broken:" in table.stderr and "typo.py" in table.stderr


def test_a_broken_file_does_not_break_other_workflows_or_commands(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    (flows / "syntax.py").write_text("def broken(:\n")
    assert cli("run", "greet", "name=Ada").exit_code == 0
    assert cli("config", "show").exit_code == 0


def test_unrelated_commands_never_import_user_files(cli: Cli, flows: Path, tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    (flows / "spy.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    assert cli("config", "show").exit_code == 0
    assert cli("tools", "list").exit_code == 0
    assert not marker.exists()
    cli("workflows", "list")
    assert marker.exists()


def test_workflows_show_gives_schemas_and_steps(cli: Cli, flows: Path) -> None:
    write_greet(flows)
    shown = json.loads(cli("workflows", "show", "greet", "--json").stdout)
    assert shown["steps"] == ["greet", "shout"]
    assert shown["input_schema"]["required"] == ["name"]
    assert set(shown["output_schema"]["properties"]) == {"text", "tags"}
    assert shown["description"] == "Greets someone loudly."
    text = cli("workflows", "show", "qa")
    assert "prepare → retrieve → answer → cite" in text.stdout
    assert cli("workflows", "show", "nope").exit_code == 2


def test_on_a_terminal_each_step_is_shown_done_or_failed_with_its_duration(
    config: Path, flows: Path
) -> None:
    import os
    import re
    import sys

    import pexpect

    write_greet(flows)
    write_raises(flows)
    llmorch = str(Path(sys.executable).parent / "llmorch")
    env = {**os.environ, "NO_COLOR": "1"}

    def screen(*args: str) -> tuple[str, int]:
        child = pexpect.spawn(llmorch, ["--config", str(config), *args], env=env, timeout=30)
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.read().decode())  # styles, cursor moves
        child.close()
        return text, child.exitstatus or 0

    text, code = screen("run", "greet", "name=Ada")
    assert code == 0
    assert re.search(r"done\s+greet\s+\d+\.\ds", text) and re.search(r"done\s+shout", text)
    assert "HELLO ADA" in text
    text, code = screen("run", "buggy")
    assert code == 9
    assert re.search(r"failed\s+divide\s+\d+\.\ds", text)
