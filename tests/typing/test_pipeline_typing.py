"""pyright (strict) must accept tests/typing/good and reject each tests/typing/bad snippet.

Each bad snippet marks the offending line with a `# expect: <fragment>` comment on the line
above it; pyright must report an error there whose message contains the fragment, and no
error anywhere else. One pyright run checks every file, because pyright takes seconds to start.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
GOOD = sorted((HERE / "good").glob("*.py"))
BAD = sorted((HERE / "bad").glob("*.py"))
EXPECT = "# expect:"


def _pyright() -> str:
    beside_python = Path(sys.executable).parent / "pyright"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("pyright")
    if found is None:
        pytest.skip("pyright is not installed")
    return found


@cache
def _errors_by_file() -> dict[Path, list[tuple[int, str]]]:
    """Run pyright once over every snippet; map each file to its (1-based line, message) errors."""
    files = [str(p) for p in GOOD + BAD]
    proc = subprocess.run(
        [_pyright(), "--outputjson", "--level", "error", *files],
        cwd=ROOT,  # picks up [tool.pyright] (strict, the .venv) from pyproject.toml
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(proc.stdout)
    errors: dict[Path, list[tuple[int, str]]] = {}
    for diag in report["generalDiagnostics"]:
        if diag["severity"] == "error":
            line = diag["range"]["start"]["line"] + 1
            errors.setdefault(Path(diag["file"]).resolve(), []).append((line, diag["message"]))
    return errors


def _expectation(snippet: Path) -> tuple[int, str]:
    """The line after the `# expect:` comment and the message fragment it names."""
    lines = snippet.read_text().splitlines()
    for number, text in enumerate(lines, start=1):
        if text.strip().startswith(EXPECT):
            return number + 1, text.split(EXPECT, 1)[1].strip()
    raise AssertionError(f"{snippet.name} has no '{EXPECT}' comment")


def test_snippets_exist() -> None:
    assert GOOD, "no good snippets found"
    assert len(BAD) >= 5, "expected a bad snippet per kind of mismatch"


@pytest.mark.parametrize("snippet", GOOD, ids=lambda p: p.name)
def test_pyright_accepts_good_pipeline(snippet: Path) -> None:
    assert _errors_by_file().get(snippet.resolve(), []) == []


@pytest.mark.parametrize("snippet", BAD, ids=lambda p: p.name)
def test_pyright_rejects_bad_pipeline(snippet: Path) -> None:
    line, fragment = _expectation(snippet)
    errors = _errors_by_file().get(snippet.resolve(), [])
    assert errors, f"pyright accepted {snippet.name}"
    assert {ln for ln, _ in errors} == {line}, f"errors off the expected line {line}: {errors}"
    assert any(fragment in message for _, message in errors), (
        f"no error on line {line} mentions {fragment!r}: {errors}"
    )
