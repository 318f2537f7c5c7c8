"""Runs `nix-instantiate` offline for the Nix tests: no daemon, a private store, no user cache."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NIXPKGS_LIB_ENV = "LLMORCH_NIXPKGS_LIB"
NIX_INSTANTIATE = shutil.which("nix-instantiate")

requires_nix = pytest.mark.skipif(
    NIX_INSTANTIATE is None, reason="nix-instantiate is not installed (run scripts/setup-nix)"
)


def nixpkgs_lib() -> Path:
    """nixpkgs' lib from the shared folder beside the repo, or from $LLMORCH_NIXPKGS_LIB."""
    override = os.environ.get(NIXPKGS_LIB_ENV)
    lib = Path(override) if override else REPO.parent / "shared" / "nix" / "nixpkgs-lib" / "lib"
    if not (lib / "default.nix").is_file():
        pytest.fail(
            f"nixpkgs lib not found at {lib}; set {NIXPKGS_LIB_ENV} to a nixpkgs lib folder"
        )
    return lib


def run(args: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """nix-instantiate with everything it writes kept under `workdir` (store files in workdir/store)."""
    assert NIX_INSTANTIATE is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIX_")}
    env.update(HOME=str(workdir), XDG_CACHE_HOME=str(workdir / "cache"))
    command = [NIX_INSTANTIATE, "--option", "build-users-group", "", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def evaluate(nix_file: Path, workdir: Path, **path_args: Path) -> subprocess.CompletedProcess[str]:
    """Evaluate `nix_file` (a function of nixpkgsLib and `path_args`) strictly to JSON."""
    args = ["--eval", "--strict", "--json", "--read-write-mode", "--store", str(workdir / "store")]
    args += [str(nix_file), "--arg", "nixpkgsLib", str(nixpkgs_lib())]
    for name, value in path_args.items():
        args += ["--arg", name, str(value)]
    return run(args, workdir)
