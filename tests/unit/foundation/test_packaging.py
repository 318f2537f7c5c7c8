"""What `pip install llmorch` gets: the built wheel must carry the files the commands read."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_wheel_ships_the_example_config_and_entry_point(tmp_path: Path) -> None:
    # Build from a copy: a `build/` folder left in the checkout would hide missing package data.
    source = tmp_path / "src"
    shutil.copytree(
        REPO,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "tests", "bench"),
    )
    wheels = tmp_path / "wheels"
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "-w",
        str(wheels),
        str(source),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("llmorch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = archive.read("llmorch/config.example.yaml").decode("utf-8")
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt")))
    assert "llmorch/py.typed" in names
    assert shipped == (REPO / "config.example.yaml").read_text(encoding="utf-8")
    assert "llmorch = llmorch.cli:main" in entry_points.decode("utf-8")
