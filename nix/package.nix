# llmorch as a Nix package: the pyproject build with setuptools, dependencies from nixpkgs
# (qdrant-edge-py from ./qdrant-edge-py.nix through the overlay).
{
  lib,
  python,
  buildPythonApplication,
  setuptools,
  pytestCheckHook,
}:
let
  pyproject = lib.importTOML ../pyproject.toml;
  deps = import ./python-dependencies.nix python.pkgs;
in
buildPythonApplication {
  pname = "llmorch";
  inherit (pyproject.project) version;
  pyproject = true;

  # Only what the build and the unit tests read, so editing docs or nix/ does not rebuild the package.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../pyproject.toml
      ../README.md
      ../config.example.yaml
      ../llmorch
      ../tests/conftest.py
      ../tests/unit
    ];
  };

  build-system = [ setuptools ];
  dependencies = deps.runtime;

  # pyproject's lower bounds follow PyPI; a nixpkgs release may trail them by a minor version, and the
  # unit tests below are what tells us whether that matters.
  pythonRelaxDeps = true;

  nativeCheckInputs = [ pytestCheckHook ] ++ deps.test;
  # Integration tests need a model server and typing tests need pyright; the unit tests need neither.
  enabledTestPaths = [ "tests/unit" ];
  # These read the checkout's scripts and CI entry, or build a wheel with pip; the sandbox has neither.
  disabledTestPaths = [
    "tests/unit/foundation/test_readme.py"
    "tests/unit/foundation/test_packaging.py"
  ];

  pythonImportsCheck = [
    "llmorch"
    "llmorch.cli.app"
  ];

  meta = {
    inherit (pyproject.project) description;
    license = lib.licenses.mit;
    mainProgram = "llmorch";
  };
}
