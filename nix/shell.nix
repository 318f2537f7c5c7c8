# Development shell: Python with llmorch's dependencies and test tools, ruff and pyright. The checkout
# itself is on PYTHONPATH, so edits take effect without reinstalling.
{ pkgs }:
let
  python = pkgs.python3.withPackages (
    ps:
    let
      deps = import ./python-dependencies.nix ps;
    in
    deps.runtime ++ deps.test
  );
in
pkgs.mkShell {
  packages = [
    python
    pkgs.ruff
    pkgs.pyright
  ];
  shellHook = ''
    export PYTHONPATH="$PWD''${PYTHONPATH:+:$PYTHONPATH}"
  '';
}
