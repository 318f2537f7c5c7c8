# Evaluates flake.nix's outputs offline against a stand-in nixpkgs: enough of a package set to check
# the wiring (overlay, Python package, qdrant-edge-py wheels, dev shell, apps, checks) without nixpkgs.
{ nixpkgsLib }:
let
  realLib = import nixpkgsLib;
  # lib.fileset needs builtins.readFileType (Nix 2.14+); on older Nix only check the listed files exist.
  lib =
    if builtins ? readFileType then
      realLib
    else
      realLib
      // {
        fileset = {
          unions = files: files;
          toSource =
            { root, fileset }:
            assert realLib.all builtins.pathExists fileset;
            {
              inherit root;
              files = map toString fileset;
            };
        };
      };

  drv = name: extra: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  }
  // extra;

  # Stand-in Python packages are named python3-<attribute>; the wheel-built one keeps its pname.
  pythonAttrName = d: d.attrs.pname or (realLib.removePrefix "python3-" d.name);
  mkPythonDrv = attrs: drv "${attrs.pname}-${attrs.version}" { inherit attrs; meta = attrs.meta or { }; };

  pythonModuleNames = [
    "typer"
    "rich"
    "prompt-toolkit"
    "openai"
    "httpx2"
    "anthropic"
    "qdrant-client"
    "pydantic"
    "pydantic-settings"
    "loguru"
    "pyyaml"
    "platformdirs"
    "json-repair"
    "python-frontmatter"
    "pathspec"
    "filelock"
    "starlette"
    "uvicorn"
    "mcp"
    "jsonschema"
    "python-telegram-bot"
    "markdown-it-py"
    "pytest"
    "pytest-asyncio"
    "pexpect"
    "aiosmtpd"
    "setuptools"
    "pytestCheckHook"
  ];

  basePkgs =
    system: pkgs:
    let
      callWith = scope: fn: args: let f = import fn; in f (builtins.intersectAttrs (builtins.functionArgs f) scope // args);
      pythonSet = realLib.fix (
        realLib.foldl' (acc: ext: realLib.extends ext acc) (
          py:
          realLib.genAttrs pythonModuleNames (name: drv "python3-${name}" { })
          // {
            python = python3;
            callPackage = callWith (pkgs // py);
            buildPythonPackage = mkPythonDrv;
            buildPythonApplication = mkPythonDrv;
          }
        ) pkgs.pythonPackagesExtensions
      );
      python3 = drv "python3" {
        pkgs = pythonSet;
        sitePackages = "lib/python3.13/site-packages";
        withPackages = select: drv "python3-env" { packages = select pythonSet; };
      };
    in
    {
      inherit lib python3;
      python3Packages = pythonSet;
      pythonPackagesExtensions = [ ];
      stdenv = {
        hostPlatform = {
          inherit system;
          isLinux = realLib.hasSuffix "-linux" system;
        };
        cc.cc.lib = drv "gcc-lib" { };
      };
      fetchurl = args: drv (baseNameOf args.url) { inherit (args) url hash; };
      autoPatchelfHook = drv "auto-patchelf-hook" { };
      mkShell = attrs: drv "nix-shell" attrs;
      runCommand = name: env: script: drv name { inherit script; };
      ruff = drv "ruff" { };
      pyright = drv "pyright" { };
      nixfmt = drv "nixfmt" { };
    };

  mkPkgs =
    system: overlays:
    realLib.fix (realLib.foldl' (acc: overlay: realLib.extends overlay acc) (basePkgs system) overlays)
    // {
      extend = overlay: mkPkgs system (overlays ++ [ overlay ]);
    };

  systems = [
    "x86_64-linux"
    "aarch64-linux"
    "x86_64-darwin"
    "aarch64-darwin"
  ];
  nixpkgs = {
    lib = lib // {
      nixosSystem = args: { config.systemd.units = throw "the NixOS check needs real nixpkgs"; };
    };
    legacyPackages = realLib.genAttrs systems (system: mkPkgs system [ ]);
  };

  flake = import ../../flake.nix;
  self = flake.outputs { inherit self nixpkgs; };
  perSystem = f: realLib.mapAttrs (_: f);
in
{
  inherit (flake) description;
  inputs = realLib.mapAttrs (_: input: input.url) flake.inputs;
  packages = perSystem (p: {
    names = builtins.attrNames p;
    inherit (p.default) name;
    same = p.default == p.llmorch;
    inherit (p.default.attrs) pname version pyproject enabledTestPaths pythonImportsCheck;
    inherit (p.default.meta) mainProgram description;
    src = p.default.attrs.src.files or null;
    dependencies = map pythonAttrName p.default.attrs.dependencies;
    testDependencies = map pythonAttrName p.default.attrs.nativeCheckInputs;
    edgeWheel = realLib.head (
      map (d: d.attrs.src) (realLib.filter (d: d.name == "qdrant-edge-py-0.9.0") p.default.attrs.dependencies)
    );
  }) self.packages;
  apps = perSystem (a: a.default.program) self.apps;
  devShells = perSystem (s: {
    packages = map (p: p.name) s.default.packages;
    python = map pythonAttrName (realLib.head s.default.packages).packages;
  }) self.devShells;
  checks = perSystem builtins.attrNames self.checks;
  nixosModules = builtins.attrNames self.nixosModules;
  overlays = builtins.attrNames self.overlays;
  formatter = perSystem (f: f.name) self.formatter;
}
