{
  description = "llmorch: local-first, type-safe LLM orchestration CLI (typed pipelines, a tool loop for local models, Qdrant hybrid retrieval over markdown notes)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      linuxSystems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      systems = linuxSystems ++ [
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      pkgsFor = system: nixpkgs.legacyPackages.${system}.extend self.overlays.default;
      forSystems = names: f: lib.genAttrs names (system: f (pkgsFor system));

      # A NixOS system using the module the way the README shows, for the module check.
      exampleSystem =
        system:
        lib.nixosSystem {
          modules = [
            self.nixosModules.default
            {
              nixpkgs.hostPlatform = system;
              boot.isContainer = true;
              system.stateVersion = "25.11";
              services.llmorch = {
                enable = true;
                settings.llm.base_url = "http://127.0.0.1:8080/v1";
                apiKeyFiles.llm = "/run/secrets/llmorch-llm-key";
                ingest = {
                  enable = true;
                  paths = [ "/srv/notes" ];
                  schedule = "*-*-* 03:00";
                };
                jobs.morning = {
                  query = "What is on my plate today?";
                  schedule = "Mon..Fri 07:30";
                  outputFile = "/srv/notes/Inbox/morning.md";
                };
              };
            }
          ];
        };
    in
    {
      overlays.default = import ./nix/overlay.nix;

      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          # The package this flake builds and tests; apply overlays.default and set
          # services.llmorch.package = pkgs.llmorch to build against your own nixpkgs instead.
          services.llmorch.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };

      packages = forSystems systems (pkgs: {
        default = pkgs.llmorch;
        inherit (pkgs) llmorch;
      });

      apps = forSystems systems (pkgs: {
        default = {
          type = "app";
          program = lib.getExe pkgs.llmorch;
          meta.description = "Run the llmorch CLI";
        };
      });

      devShells = forSystems systems (pkgs: {
        default = import ./nix/shell.nix { inherit pkgs; };
      });

      formatter = forSystems systems (pkgs: pkgs.nixfmt);

      checks = lib.recursiveUpdate
        (forSystems systems (pkgs: {
          package = pkgs.llmorch;
          cli = pkgs.runCommand "llmorch-cli-version" { } ''
            ${lib.getExe pkgs.llmorch} --version | tee $out
          '';
        }))
        (forSystems linuxSystems (
          pkgs:
          let
            units = (exampleSystem pkgs.stdenv.hostPlatform.system).config.systemd.units;
            unitFile = name: "${units.${name}.unit}/${name}";
          in
          {
            # Renders the example's units with real NixOS and checks the lines that matter.
            nixos-module = pkgs.runCommand "llmorch-nixos-module" { } ''
              set -x
              ingest=${unitFile "llmorch-ingest.service"}
              job=${unitFile "llmorch-job-morning.service"}
              grep -Eq '^ExecStart=/nix/store/[^ ]+-llmorch-load-credentials /nix/store/[^ ]+/bin/llmorch --config /nix/store/[^ ]+-llmorch.yaml ingest /srv/notes$' $ingest
              grep -Eq '^ExecStart=.* ask -q "What is on my plate today\?" --mode rag$' $job
              grep -qx 'StandardOutput=truncate:/srv/notes/Inbox/morning.md' $job
              for unit in $ingest $job; do
                grep -qx 'Type=oneshot' $unit
                grep -qx 'DynamicUser=true' $unit
                grep -qx 'ProtectSystem=strict' $unit
                grep -qx 'LoadCredential=llm-api-key:/run/secrets/llmorch-llm-key' $unit
              done
              grep -qx 'OnCalendar=\*-\*-\* 03:00' ${unitFile "llmorch-ingest.timer"}
              grep -qx 'Persistent=true' ${unitFile "llmorch-job-morning.timer"}
              touch $out
            '';
          }
        ));
    };
}
