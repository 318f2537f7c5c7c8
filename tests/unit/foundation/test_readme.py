"""README.md is part of the product: its commands, keys and examples must stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from llmorch.cli.app import app
from llmorch.config import EmbeddingSettings, RerankSettings, Settings

REPO = Path(__file__).resolve().parents[3]
README = (REPO / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def test_quick_start_has_the_main_job_and_the_test_command_that_ci_runs() -> None:
    (block,) = code_blocks(section("Quick start"), "sh")
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["scripts/demo", "scripts/test"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci
    for script in commands:
        assert (REPO / script).stat().st_mode & 0o111, f"{script} is not executable"


def test_every_config_key_is_in_the_reference() -> None:
    reference = section("Configuration reference")
    sections: dict[str, type[BaseModel]] = {
        "embedding": EmbeddingSettings,
        "rerank": RerankSettings,
    }
    for name, field in Settings.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            sections[name] = model
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", reference, re.M))
    expected = {
        f"{name}.{field.alias or key}"
        for name, model in sections.items()
        for key, field in model.model_fields.items()
    }
    assert documented == expected


def test_every_command_has_a_readme_section() -> None:
    commands = section("Commands")
    names = {info.name for info in app.registered_commands} | {
        group.name for group in app.registered_groups
    }
    assert names, "no commands registered"
    for name in names:
        assert f"### {name}\n" in commands, f"README lacks a section for `llmorch {name}`"


def test_library_example_runs(tmp_path: Path) -> None:
    (example,) = code_blocks(section("Use it as a library"), "python")
    script = tmp_path / "example.py"
    script.write_text(example, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("check the uninterruptible power supply ")


def test_ask_json_keys_are_the_ones_the_readme_lists() -> None:
    from llmorch.workflows.ask import AskResult

    match = re.search(
        r"`--json` prints one object:\n(.*?); a failed run", section("Commands"), re.S
    )
    assert match, "README no longer lists the keys of `ask --json`"
    documented = re.findall(r"`([a-z_]+)`", match.group(1))
    printed = [name for name, field in AskResult.model_fields.items() if not field.exclude]
    assert sorted(documented) == sorted([*printed, "exit_code"])
