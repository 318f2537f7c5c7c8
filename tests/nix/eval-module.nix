# Evaluates nix/module.nix offline: nixpkgs' lib plus small stand-ins for the NixOS option trees and the
# pkgs functions the module uses, so the tests can inspect the units a configuration produces.
{
  nixpkgsLib,
  configFile,
}:
let
  lib = import nixpkgsLib;
  inherit (lib) mkOption types;

  # Values a systemd unit section accepts, as NixOS renders them.
  unitValue = types.oneOf [
    types.bool
    types.int
    types.str
    (types.listOf types.str)
  ];
  unitNames = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
  unitSection = mkOption {
    type = types.attrsOf unitValue;
    default = { };
  };
  description = mkOption {
    type = types.str;
    default = "";
  };

  # The parts of the NixOS option tree the module writes to.
  nixosStandIn = {
    options = {
      assertions = mkOption {
        type = types.listOf (
          types.submodule {
            options.assertion = mkOption { type = types.bool; };
            options.message = mkOption { type = types.str; };
          }
        );
        default = [ ];
      };
      systemd.services = mkOption {
        default = { };
        type = types.attrsOf (
          types.submodule {
            options = {
              inherit description;
              after = unitNames;
              wants = unitNames;
              wantedBy = unitNames;
              environment = mkOption {
                type = types.attrsOf types.str;
                default = { };
              };
              serviceConfig = unitSection;
            };
          }
        );
      };
      systemd.timers = mkOption {
        default = { };
        type = types.attrsOf (
          types.submodule {
            options = {
              inherit description;
              wantedBy = unitNames;
              timerConfig = unitSection;
            };
          }
        );
      };
      systemd.tmpfiles.rules = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      networking.firewall.allowedTCPPorts = mkOption {
        type = types.listOf types.port;
        default = [ ];
      };
    };
  };

  # Files land in the (temporary) store the evaluation runs against, so the tests can read them back.
  pkgs = {
    llmorch = {
      type = "derivation";
      name = "llmorch-0.1.0";
      outPath = "/nix/store/00000000000000000000000000000000-llmorch-0.1.0";
      meta.mainProgram = "llmorch";
    };
    # JSON is valid YAML, and what nixpkgs' formats.yaml feeds to its converter anyway.
    formats.yaml =
      { }:
      {
        type = types.attrsOf types.anything;
        generate = name: value: builtins.toFile name (builtins.toJSON value);
      };
    writeShellScript = name: text: builtins.toFile name "#!/bin/bash\n${text}";
    writeText = name: text: builtins.toFile name text;
  };

  evaluated = lib.evalModules {
    modules = [
      nixosStandIn
      ../../nix/module.nix
      configFile
      { _module.args = { inherit pkgs; }; }
    ];
  };
  inherit (evaluated) config options;
in
{
  inherit (config.systemd) services timers;
  tmpfiles = config.systemd.tmpfiles.rules;
  firewallPorts = config.networking.firewall.allowedTCPPorts;
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  # Rendering the option docs forces every type, default and description to evaluate.
  options = map (o: {
    inherit (o) name description;
  }) (lib.filter (o: o.visible && !o.internal) (lib.optionAttrSetToDocList options.services.llmorch));
}
