"""flake.nix's outputs, evaluated offline against a stand-in nixpkgs (tests/nix/eval-flake.nix).

Building needs real nixpkgs and a builder; this checks the wiring instead: every system gets the
package, app, shell and checks, the qdrant-edge-py wheel matches the platform, and the Nix dependency
lists stay in step with pyproject.toml.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from nix_instantiate import REPO, evaluate, requires_nix

pytestmark = requires_nix

EVAL_FLAKE = Path(__file__).with_name("eval-flake.nix")
SYSTEMS = {"x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin"}
WHEEL_PLATFORM = {
    "x86_64-linux": "manylinux_2_28_x86_64",
    "aarch64-linux": "manylinux_2_28_aarch64",
    "x86_64-darwin": "macosx_10_12_x86_64",
    "aarch64-darwin": "macosx_11_0_arm64",
}


@pytest.fixture(scope="module")
def flake(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = evaluate(EVAL_FLAKE, tmp_path_factory.mktemp("flake"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def distribution_name(requirement: str) -> str:
    """`PyYAML>=6.0` -> `pyyaml`: the normalised name nixpkgs uses as the attribute."""
    name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_system_gets_package_app_shell_and_checks(flake: dict[str, Any]) -> None:
    assert set(flake["packages"]) == SYSTEMS
    assert set(flake["apps"]) == SYSTEMS
    assert set(flake["devShells"]) == SYSTEMS
    assert set(flake["formatter"]) == SYSTEMS
    assert flake["nixosModules"] == ["default"]
    assert flake["overlays"] == ["default"]
    for system in SYSTEMS:
        package = flake["packages"][system]
        assert package["names"] == ["default", "llmorch"]
        assert package["same"] is True
        assert flake["apps"][system].endswith(f"-{package['name']}/bin/llmorch")
        linux_only = {"nixos-module"} if system.endswith("-linux") else set()
        assert set(flake["checks"][system]) == {"package", "cli"} | linux_only


def test_package_is_the_pyproject_build_of_this_checkout(flake: dict[str, Any]) -> None:
    project = pyproject()["project"]
    package = flake["packages"]["x86_64-linux"]
    assert package["pname"] == project["name"]
    assert package["version"] == project["version"]
    assert package["pyproject"] is True
    assert package["mainProgram"] == "llmorch" == next(iter(project["scripts"]))
    assert package["description"] == project["description"]
    assert package["enabledTestPaths"] == ["tests/unit"]
    assert "llmorch.cli.app" in package["pythonImportsCheck"]


def test_package_source_holds_what_the_build_and_unit_tests_read(flake: dict[str, Any]) -> None:
    source = flake["packages"]["x86_64-linux"]["src"]
    if source is None:
        pytest.skip("this Nix evaluates lib.fileset itself; the file list is opaque")
    relative = {str(Path(p).relative_to(REPO)) for p in source}
    assert {"pyproject.toml", "README.md", "llmorch", "tests/unit"} <= relative
    assert not any(p.startswith(("nix", "flake", ".venv")) for p in relative)


def test_nix_dependencies_match_pyproject(flake: dict[str, Any]) -> None:
    project = pyproject()["project"]
    runtime = {distribution_name(r) for r in project["dependencies"]}
    dev = {distribution_name(r) for r in project["optional-dependencies"]["dev"]}
    package = flake["packages"]["x86_64-linux"]
    assert set(package["dependencies"]) == runtime
    assert set(package["testDependencies"]) - {"pytestCheckHook"} == dev - {"pyright", "ruff"}

    shell = flake["devShells"]["x86_64-linux"]
    assert set(shell["python"]) == runtime | (dev - {"pyright", "ruff"})
    assert {"ruff", "pyright"} <= set(shell["packages"])


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_qdrant_edge_wheel_matches_the_platform(flake: dict[str, Any], system: str) -> None:
    wheel = Path(flake["packages"][system]["edgeWheel"]).name
    assert wheel.endswith(f"-qdrant_edge_py-0.9.0-cp310-abi3-{WHEEL_PLATFORM[system]}.whl")


def test_flake_follows_nixos_unstable(flake: dict[str, Any]) -> None:
    assert flake["inputs"] == {"nixpkgs": "github:NixOS/nixpkgs/nixos-unstable"}
