"""Where workflows come from: built-ins, the user's files and installed packages, and what a
broken source looks like. Each test loads real files from disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from user_workflows import write_greet

from llmorch.config import Settings, WorkflowSettings
from llmorch.errors import UsageError
from llmorch.workflows.registry import WorkflowRegistry


def settings_with(*paths: Path) -> Settings:
    return Settings(workflows=WorkflowSettings(paths=list(paths)))


def test_builtins_include_qa_and_agent_with_their_steps() -> None:
    registry = WorkflowRegistry.builtins()
    assert {"qa", "agent"} <= set(registry.names())
    assert registry.get("qa").pipeline.step_names == ("prepare", "retrieve", "answer", "cite")
    assert registry.get("agent").pipeline.step_names == ("prepare", "tool_loop", "cite")


def test_a_users_file_adds_its_workflows_with_the_file_as_source(tmp_path: Path) -> None:
    path = write_greet(tmp_path / "flows")
    registry = WorkflowRegistry.discover(settings_with(tmp_path / "flows"))
    greet = registry.get("greet")
    assert greet.source == str(path)
    assert greet.pipeline.step_names == ("greet", "shout")
    assert registry.broken() == []


def test_default_folder_is_under_xdg_config_home(tmp_path: Path) -> None:
    # tests/conftest.py points XDG_CONFIG_HOME at tmp_path / "xdg" / "config".
    write_greet(tmp_path / "xdg" / "config" / "llmorch" / "workflows")
    assert "greet" in WorkflowRegistry.discover(Settings()).names()


def test_a_missing_folder_is_empty_not_an_error(tmp_path: Path) -> None:
    registry = WorkflowRegistry.discover(settings_with(tmp_path / "nowhere"))
    assert registry.broken() == [] and "qa" in registry.names()


def test_broken_files_are_listed_with_their_reason_and_the_rest_still_load(
    tmp_path: Path,
) -> None:
    flows = tmp_path / "flows"
    write_greet(flows)
    (flows / "syntax.py").write_text("def broken(:\n    pass\n")
    (flows / "missing_import.py").write_text("import no_such_module_here\n")
    (flows / "nothing.py").write_text("X = 1\n")
    registry = WorkflowRegistry.discover(settings_with(flows))

    reasons = {Path(b.source).name: b.reason for b in registry.broken()}
    assert reasons["syntax.py"].startswith("SyntaxError")
    assert "line 1" in reasons["syntax.py"]
    assert reasons["missing_import.py"] == (
        "ModuleNotFoundError: No module named 'no_such_module_here'"
    )
    assert reasons["nothing.py"] == "defines no Workflow at module level"
    assert "greet" in registry.names()


def test_two_workflows_with_one_name_keep_the_first_and_list_the_second(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    first = write_greet(flows, "greet", file="a_greet.py")
    second = write_greet(flows, "greet", file="b_greet.py")
    write_greet(flows, "qa", file="c_qa.py")  # a user file cannot shadow a built-in
    registry = WorkflowRegistry.discover(settings_with(flows))

    assert registry.get("greet").source == str(first)
    assert registry.get("qa").source == "builtin"
    broken = {b.source: b for b in registry.broken()}
    assert broken[str(second)].name == "greet"
    assert f"already defined by {first}" in broken[str(second)].reason
    assert "already defined by builtin" in broken[str(flows / "c_qa.py")].reason


def test_a_workflow_imported_into_another_file_is_not_a_duplicate(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    (flows).mkdir()
    (flows / "reexport.py").write_text("from llmorch.workflows.builtin.qa import WORKFLOW\n")
    registry = WorkflowRegistry.discover(settings_with(flows))
    assert registry.broken() == []


def test_an_installed_package_adds_workflows_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    write_greet(site / "acme_flows", "acme_greet", file="__init__.py")
    dist = site / "acme_flows-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-flows\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[llmorch.workflows]\nacme = acme_flows\n")
    monkeypatch.syspath_prepend(str(site))

    registry = WorkflowRegistry.discover(settings_with())
    assert registry.get("acme_greet").source == "acme-flows:acme_flows"


def test_an_entry_point_that_fails_to_load_is_listed_as_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    dist = site / "acme_flows-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-flows\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[llmorch.workflows]\nacme = acme_flows_gone\n")
    monkeypatch.syspath_prepend(str(site))

    broken = WorkflowRegistry.discover(settings_with()).broken()
    assert [(b.source, b.reason) for b in broken] == [
        ("acme-flows:acme_flows_gone", "ModuleNotFoundError: No module named 'acme_flows_gone'")
    ]


def test_an_unknown_name_is_a_usage_error_suggesting_close_names() -> None:
    with pytest.raises(UsageError) as caught:
        WorkflowRegistry.builtins().get("qaa")
    assert caught.value.exit_code == 2
    assert "no workflow named 'qaa'" in str(caught.value)
    assert "did you mean qa" in str(caught.value)


def test_an_installed_package_adds_tools_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "acme_flows").mkdir(parents=True)
    (site / "acme_flows" / "tools.py").write_text(
        "from llmorch.tools.base import tool\n\n\n"
        "@tool\ndef shout(text: str) -> str:\n"
        '    """Says it louder.\n\n    Args:\n        text: What to say.\n    """\n'
        "    return text.upper()\n"
    )
    (site / "acme_flows" / "__init__.py").write_text("")
    dist = site / "acme_flows-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-flows\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[llmorch.tools]\nacme = acme_flows.tools\nbroken = acme_flows.missing\n"
    )
    monkeypatch.syspath_prepend(str(site))

    from llmorch.tools.defaults import build_default_registry
    from llmorch.workflows.runtime import Runtime

    settings = Settings()
    registry = build_default_registry(settings, Runtime(settings))
    assert registry.names() == ["search_knowledge_base", "read_note", "shout"]
