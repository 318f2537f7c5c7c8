"""The workflows in examples/workflows run as a user runs them: `llmorch run` with
workflows.paths pointing at the folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import yaml
from conftest import Cli

EXAMPLES = Path(__file__).parents[3] / "examples" / "workflows"


def test_weekly_review_tables_the_project_notes_changed_this_week(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "projects").mkdir(parents=True)
    (vault / "projects" / "Llmorch.md").write_text(
        "---\ntags: [project]\n---\n# Llmorch\n\n- [x] registry\n- [ ] serve\n"
    )
    (vault / "projects" / "Shed.md").write_text("# Shed\n\n#project/diy\n\n- [x] roof\n")
    (vault / "Old project.md").write_text("# Old\n\n#project\n- [ ] forgotten\n")
    month_ago = time.time() - 30 * 86400
    os.utime(vault / "Old project.md", (month_ago, month_ago))
    (vault / "Garden.md").write_text("# Garden\n\n- [ ] water #garden\n")
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"workflows": {"paths": [str(EXAMPLES)]}, "tools": {"note_roots": [str(vault)]}}
        )
    )
    cli = Cli(config)

    table = cli("run", "weekly_review")
    assert table.exit_code == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if line.startswith("| [[")]
    assert sorted(rows) == sorted(
        [
            f"| [[Llmorch]] | {time.strftime('%Y-%m-%d', time.gmtime())} | 1 | 1 | in progress |",
            f"| [[Shed]] | {time.strftime('%Y-%m-%d', time.gmtime())} | 0 | 1 | done |",
        ]
    )

    wider = json.loads(cli("run", "weekly_review", "days=60", "--json").stdout)
    assert {p["note"] for p in wider["output"]["projects"]} == {"Llmorch", "Shed", "Old project"}


def test_the_readme_workflow_example_loads_with_its_steps(tmp_path: Path) -> None:
    readme = (EXAMPLES.parents[1] / "README.md").read_text()
    marker = "# ~/.config/llmorch/workflows/standup.py\n"
    code = readme.split(marker, 1)[1].split("```", 1)[0]
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "standup.py").write_text(code)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"workflows": {"paths": [str(flows)]}}))
    shown = Cli(config)("workflows", "show", "standup", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["steps"] == ["recent_notes", "write_standup"]
