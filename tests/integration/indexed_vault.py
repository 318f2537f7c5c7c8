"""A vault written to disk, a config pointing at a model server, and the real `llmorch ingest` run
over it: what every whole-process CLI test starts from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

LLMORCH = Path(sys.executable).parent / "llmorch"


def indexed_vault_env(
    tmp_path: Path, notes: dict[str, str], llm: dict[str, Any], **extra_env: str
) -> dict[str, str]:
    """The environment (LLMORCH_CONFIG plus `extra_env`) under which `notes` are indexed."""
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in notes.items():
        (vault / name).write_text(text, encoding="utf-8")
    config = tmp_path / "config.yaml"
    settings = {
        "llm": llm,
        "store": {"path": str(tmp_path / "qdrant")},
        "ingest": {"paths": [str(vault)]},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    env = {**os.environ, "LLMORCH_CONFIG": str(config), **extra_env}
    ingested = subprocess.run(
        [str(LLMORCH), "ingest"], env=env, capture_output=True, text=True, timeout=300
    )
    assert ingested.returncode == 0, ingested.stderr
    return env
