# NixOS module `services.llmorch`: scheduled ingest, questions and workflows as hardened oneshot units,
# and `llmorch serve` and `llmorch telegram` as hardened long-running services.
# Settings become a YAML file in the store; API keys stay out of it (environmentFile or LoadCredential).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    attrNames
    concatMapStrings
    concatStringsSep
    filterAttrs
    literalExpression
    mapAttrs'
    mapAttrsToList
    mkEnableOption
    mkIf
    mkOption
    mkPackageOption
    nameValuePair
    optional
    optionalAttrs
    types
    ;

  cfg = config.services.llmorch;
  yaml = pkgs.formats.yaml { };

  # `externalPath` (absolute, never copied to the store) only exists in recent nixpkgs; older ones get a
  # plain string, which is not copied to the store either.
  externalPath = types.externalPath or types.str;

  # The environment variable llmorch reads each API key from, keyed by the credential's short name.
  apiKeyEnv = {
    llm = "LLMORCH_LLM__API_KEY";
    embedding = "LLMORCH_EMBEDDING__API_KEY";
    store = "LLMORCH_STORE__API_KEY";
    rerank = "LLMORCH_RERANK__API_KEY";
  };
  credentialName = name: "${name}-api-key";
  credentials = filterAttrs (_: file: file != null) cfg.apiKeyFiles;
  # secretFiles: any variable (a notify target's token_env or password_env) from a credential file.
  secretCredential = variable: "secret-${variable}";
  loadCredentialLines =
    mapAttrsToList (name: file: "${credentialName name}:${file}") credentials
    ++ mapAttrsToList (variable: file: "${secretCredential variable}:${file}") cfg.secretFiles;

  configFile = yaml.generate "llmorch.yaml" cfg.settings;

  # systemd hands LoadCredential= files over in $CREDENTIALS_DIRECTORY; llmorch reads keys from the
  # environment, so this exports each one and then runs the real command.
  loadCredentials = pkgs.writeShellScript "llmorch-load-credentials" ''
    set -eu
    ${concatMapStrings (name: ''
      ${apiKeyEnv.${name}}=$(<"$CREDENTIALS_DIRECTORY/${credentialName name}")
      export ${apiKeyEnv.${name}}
    '') (attrNames credentials)}
    ${concatMapStrings (variable: ''
      ${variable}=$(<"$CREDENTIALS_DIRECTORY/${secretCredential variable}")
      export ${variable}
    '') (attrNames cfg.secretFiles)}
    exec "$@"
  '';

  # ExecStart= is not a shell line: systemd splits on spaces and expands % specifiers and $VARIABLES,
  # so anything beyond plain words and paths is double-quoted and escaped the way systemd reads it.
  systemdArg =
    arg:
    if builtins.match "[A-Za-z0-9_./:@+=,-]+" arg != null then
      arg
    else
      "\""
      + lib.replaceStrings [ "\\" "\"" "\n" "%" "$" ] [ "\\\\" "\\\"" "\\n" "%%" "$$" ] arg
      + "\"";

  command =
    args:
    concatStringsSep " " (
      optional (loadCredentialLines != [ ]) "${loadCredentials}"
      ++ [
        (lib.getExe cfg.package)
        "--config"
        "${configFile}"
      ]
      ++ map systemdArg args
    );

  vaultPaths = lib.unique (cfg.ingest.paths ++ cfg.settings.ingest.paths ++ cfg.settings.tools.note_roots);
  # Workflow files outside the store (a checkout in /home, say) are bound read-only like the vault.
  workflowPaths = lib.filter (p: !lib.hasPrefix builtins.storeDir (toString p)) cfg.settings.workflows.paths;
  boundPaths = lib.unique (vaultPaths ++ map toString workflowPaths);

  # Only remote servers need the network to be up; BM25-only ingest into an embedded shard does not.
  ingestNeedsNetwork = cfg.settings.embedding != null || cfg.settings.store.kind == "server";

  hardening = {
    DynamicUser = true;
    # One name for every unit, so ingest and the jobs share one dynamic UID and with it the index.
    User = "llmorch";
    Group = "llmorch";
    StateDirectory = "llmorch";
    StateDirectoryMode = "0700";
    CacheDirectory = "llmorch";
    CacheDirectoryMode = "0700";
    # The directories above are private already; a readable umask lets the vault's owner read the
    # answer files systemd creates for outputFile.
    UMask = "0022";
    # Home directories are replaced by an empty tmpfs; only the vault folders come back, read-only.
    ProtectHome = "tmpfs";
    ProtectSystem = "strict";
    PrivateTmp = true;
    PrivateDevices = true;
    NoNewPrivileges = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    # ProcSubset=pid is left out: native libraries read /proc/meminfo and /proc/cpuinfo to size pools.
    ProtectProc = "invisible";
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
    ];
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    # MemoryDenyWriteExecute stays off: libffi closures used through cffi/ctypes need W+X pages.
    SystemCallArchitectures = "native";
    SystemCallFilter = [
      "@system-service"
      "~@privileged"
    ];
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    DevicePolicy = "closed";
  };

  mkService =
    {
      description,
      args,
      needsNetwork,
      extraConfig ? { },
    }:
    {
      inherit description;
      after = optional needsNetwork "network-online.target";
      wants = optional needsNetwork "network-online.target";
      # llmorch follows the XDG directories: data and state land in StateDirectory, cache in CacheDirectory.
      environment = {
        XDG_DATA_HOME = "/var/lib";
        XDG_STATE_HOME = "/var/lib";
        XDG_CACHE_HOME = "/var/cache";
        HOME = "/var/lib/llmorch";
      };
      serviceConfig =
        hardening
        // {
          Type = "oneshot";
          ExecStart = command args;
        }
        // optionalAttrs (boundPaths != [ ]) { BindReadOnlyPaths = boundPaths; }
        // optionalAttrs (cfg.supplementaryGroups != [ ]) { SupplementaryGroups = cfg.supplementaryGroups; }
        // optionalAttrs (cfg.environmentFile != null) { EnvironmentFile = cfg.environmentFile; }
        // optionalAttrs (loadCredentialLines != [ ]) {
          LoadCredential = loadCredentialLines;
        }
        // extraConfig;
    };

  mkTimer = description: schedule: {
    inherit description;
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = schedule;
      Persistent = true;
    };
  };

  jobUnit = name: "llmorch-job-${name}";

  # A question runs `ask`; a workflow runs `run NAME --input @file`, its input written as JSON.
  # Either way, each notify target becomes `--notify NAME`, each notifyOnFailure `--notify-on-failure NAME`.
  jobArgs =
    name: job:
    jobCommandArgs name job
    ++ lib.concatMap (target: [ "--notify" target ]) job.notify
    ++ lib.concatMap (target: [ "--notify-on-failure" target ]) job.notifyOnFailure;
  jobCommandArgs =
    name: job:
    if job.workflow != null then
      [
        "run"
        job.workflow
        "--input"
        "@${pkgs.writeText "llmorch-job-${name}-input.json" (builtins.toJSON job.input)}"
      ]
    else
      [
        "ask"
        "-q"
        (toString job.query) # null only in a configuration the assertions reject
        "--mode"
        job.mode
      ];
  serverUnit = "llmorch-server";
  # systemd hands the key file over under this name; llmorch reads it as server.api_keys_file.
  serverKeyCredential = "server-api-keys";
  serverIsLoopback = lib.elem cfg.server.host [
    "127.0.0.1"
    "::1"
    "localhost"
  ];

  telegramUnit = "llmorch-telegram";
  # systemd hands the bot token over under this name; llmorch reads it as telegram.token_file.
  telegramTokenCredential = "telegram-bot-token";

  jobModule = {
    options = {
      query = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "The question passed to `llmorch ask -q`; set this or `workflow`.";
        example = "What did I plan for today? Answer as a short checklist.";
      };
      workflow = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "A workflow to run with `llmorch run` (see `llmorch workflows list`); set this or `query`.";
        example = "weekly_review";
      };
      input = mkOption {
        type = types.attrsOf types.anything;
        default = { };
        example = {
          tag = "project";
          days = 7;
        };
        description = ''
          The workflow's input, passed as JSON with `--input @file`. The file is in the Nix store:
          never put secrets here.
        '';
      };
      schedule = mkOption {
        type = types.str;
        description = "When to ask, as a systemd calendar expression (see {manpage}`systemd.time(7)`).";
        example = "Mon..Fri 07:30";
      };
      mode = mkOption {
        type = types.enum [
          "rag"
          "agent"
        ];
        default = "rag";
        description = "With `query`: `rag` answers from retrieved notes in one call; `agent` lets the model call tools.";
      };
      outputFile = mkOption {
        type = types.nullOr externalPath;
        default = null;
        example = "/srv/notes/Inbox/morning-brief.md";
        description = ''
          File the answer (or the workflow's result) is written to, replaced on every run. Its
          folder is created if missing. Unset: the result goes to the journal.
        '';
      };
      notify = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "phone" ];
        description = ''
          Targets under {option}`services.llmorch.settings.notify` that receive the result, or,
          when the job fails, its error, exit code and run id (`--notify`).
        '';
      };
      notifyOnFailure = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "mail" ];
        description = "Targets that hear from the job only when it fails: its error, exit code and run id (`--notify-on-failure`).";
      };
    };
  };

  settingsSection =
    options:
    mkOption {
      type = types.submodule {
        freeformType = yaml.type;
        inherit options;
      };
      default = { };
      description = "See the llmorch configuration reference; keys not listed here are passed through.";
    };
in
{
  options.services.llmorch = {
    enable = mkEnableOption "llmorch, scheduled ingest of markdown notes and scheduled LLM questions";

    package = mkPackageOption pkgs "llmorch" { };

    settings = mkOption {
      default = { };
      description = ''
        llmorch configuration, written as YAML to the Nix store and passed with `--config`.
        Never put API keys here: use {option}`services.llmorch.apiKeyFiles` or
        {option}`services.llmorch.environmentFile`.
      '';
      example = literalExpression ''
        {
          llm = { base_url = "http://gpu-box:8080/v1"; model = "qwen3-8b"; };
          embedding = { base_url = "http://gpu-box:8081/v1"; model = "bge-m3"; };
        }
      '';
      type = types.submodule {
        freeformType = yaml.type;
        options = {
          llm = settingsSection {
            base_url = mkOption {
              type = types.str;
              default = "http://127.0.0.1:8080/v1";
              description = "OpenAI-compatible endpoint of the chat model.";
            };
            model = mkOption {
              type = types.nullOr types.str;
              default = null;
              description = "Model name; null means the first model the server lists.";
            };
          };
          embedding = mkOption {
            type = types.nullOr (
              types.submodule {
                freeformType = yaml.type;
                options = {
                  base_url = mkOption {
                    type = types.str;
                    description = "OpenAI-compatible endpoint serving embeddings.";
                  };
                  model = mkOption {
                    type = types.str;
                    description = "Embedding model name.";
                  };
                };
              }
            );
            default = null;
            description = "Dense embeddings for hybrid search; null means BM25 keyword search only.";
          };
          store = settingsSection {
            kind = mkOption {
              type = types.enum [
                "edge"
                "server"
              ];
              default = "edge";
              description = "`edge`: embedded index under /var/lib/llmorch; `server`: a Qdrant server at `url`.";
            };
          };
          ingest = settingsSection {
            paths = mkOption {
              type = types.listOf externalPath;
              default = cfg.ingest.paths;
              defaultText = literalExpression "config.services.llmorch.ingest.paths";
              description = "Vault folders; also where the agent's note tools may read.";
            };
          };
          workflows = settingsSection {
            paths = mkOption {
              type = types.listOf types.path;
              default = [ ];
              example = literalExpression "[ ./workflows/weekly_review.py ]";
              description = "Python files, or folders of them, defining your own workflows for `jobs.<name>.workflow`.";
            };
          };
          tools = settingsSection {
            note_roots = mkOption {
              type = types.listOf externalPath;
              default = [ ];
              description = "Folders the agent may read notes from; empty means `ingest.paths`.";
            };
          };
          telegram = settingsSection {
            allowed_chat_ids = mkOption {
              type = types.listOf types.int;
              default = cfg.telegram.allowedChatIds;
              defaultText = literalExpression "config.services.llmorch.telegram.allowedChatIds";
              description = "Chats the bot answers.";
            };
          };
          logging = settingsSection {
            level = mkOption {
              type = types.enum [
                "TRACE"
                "DEBUG"
                "INFO"
                "SUCCESS"
                "WARNING"
                "ERROR"
              ];
              default = "INFO";
              description = "Log level of the messages sent to the journal.";
            };
          };
        };
      };
    };

    apiKeyFiles = mkOption {
      type = types.submodule {
        options = lib.genAttrs (attrNames apiKeyEnv) (
          name:
          mkOption {
            type = types.nullOr externalPath;
            default = null;
            description = "File holding the ${name} API key, handed over with systemd's LoadCredential=.";
          }
        );
      };
      default = { };
      example = {
        llm = "/run/secrets/llmorch-llm-key";
      };
      description = ''
        Files holding API keys (for example from agenix or sops-nix). systemd copies them into the
        unit's private credentials directory; they are read at start and never enter the Nix store.
      '';
    };

    secretFiles = mkOption {
      type = types.attrsOf externalPath;
      default = { };
      example = {
        TELEGRAM_TOKEN = "/run/secrets/telegram-bot-token";
      };
      description = ''
        Environment variable → file holding its value, handed over with systemd's LoadCredential=
        and exported to every llmorch unit; for the secrets settings name by variable, such as a
        notify target's `token_env` or `password_env`. The files never enter the Nix store.
      '';
    };

    environmentFile = mkOption {
      type = types.nullOr externalPath;
      default = null;
      example = "/run/secrets/llmorch.env";
      description = ''
        EnvironmentFile= for every llmorch unit, e.g. `LLMORCH_LLM__API_KEY=...`. Read by systemd at
        start; it never enters the Nix store.
      '';
    };

    supplementaryGroups = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "users" ];
      description = "Groups the dynamic service user joins, e.g. to read a vault that is not world-readable.";
    };

    ingest = {
      enable = mkEnableOption "a scheduled `llmorch ingest` of the vault folders";
      paths = mkOption {
        type = types.listOf externalPath;
        default = [ ];
        example = [ "/srv/notes" ];
        description = "Folders to index; they are bind-mounted read-only into the units.";
      };
      schedule = mkOption {
        type = types.str;
        default = "daily";
        example = "*-*-* 03:00";
        description = "When to ingest, as a systemd calendar expression.";
      };
    };

    server = {
      enable = mkEnableOption "`llmorch serve`: the HTTP API, the OpenAI-compatible endpoint and webhooks";
      host = mkOption {
        type = types.str;
        default = "127.0.0.1";
        description = "Address to listen on. Anything but loopback needs {option}`apiKeysFile`.";
      };
      port = mkOption {
        type = types.port;
        default = 8321;
        description = "TCP port to listen on.";
      };
      apiKeysFile = mkOption {
        type = types.nullOr externalPath;
        default = null;
        example = "/run/secrets/llmorch-server-keys";
        description = ''
          File with the API keys clients must send (one per line), handed over with systemd's
          LoadCredential=; it never enters the Nix store.
        '';
      };
      openFirewall = mkOption {
        type = types.bool;
        default = false;
        description = "Open {option}`port` in the firewall.";
      };
    };

    telegram = {
      enable = mkEnableOption "`llmorch telegram`: a Telegram bot answering allowed chats from the notes";
      tokenFile = mkOption {
        type = types.nullOr externalPath;
        default = null;
        example = "/run/secrets/llmorch-telegram-token";
        description = ''
          File holding the bot token from @BotFather, handed over with systemd's LoadCredential=;
          it never enters the Nix store.
        '';
      };
      allowedChatIds = mkOption {
        type = types.listOf types.int;
        default = [ ];
        example = [ 123456789 ];
        description = ''
          Chats (users or groups) the bot answers; everyone else is ignored and logged with their
          chat id, which is how you find your own.
        '';
      };
    };

    jobs = mkOption {
      type = types.attrsOf (types.submodule jobModule);
      default = { };
      description = "Questions asked or workflows run on a schedule; each becomes `llmorch-job-<name>.service` and `.timer`.";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = !cfg.ingest.enable || cfg.ingest.paths != [ ];
        message = "services.llmorch.ingest.enable needs at least one folder in services.llmorch.ingest.paths.";
      }
      {
        assertion = lib.all (job: (job.query == null) != (job.workflow == null)) (lib.attrValues cfg.jobs);
        message = "each services.llmorch.jobs.<name> needs exactly one of `query` or `workflow`.";
      }
      {
        assertion = lib.all (job: job.workflow != null || job.input == { }) (lib.attrValues cfg.jobs);
        message = "services.llmorch.jobs.<name>.input is only used with `workflow`.";
      }
      {
        assertion = !cfg.server.enable || serverIsLoopback || cfg.server.apiKeysFile != null;
        message = "services.llmorch.server.host ${cfg.server.host} is reachable from the network; set services.llmorch.server.apiKeysFile (or bind 127.0.0.1).";
      }
      {
        assertion = lib.all (variable: builtins.match "[A-Za-z_][A-Za-z0-9_]*" variable != null) (
          attrNames cfg.secretFiles
        );
        message = "services.llmorch.secretFiles names environment variables: letters, digits and '_', not starting with a digit.";
      }
    ]
    ++ lib.concatLists (
      mapAttrsToList (
        name: job:
        map (target: {
          assertion = (cfg.settings.notify or { }) ? ${target};
          message = "services.llmorch.jobs.${name} notifies '${target}', which is not in services.llmorch.settings.notify.";
        }) (lib.unique (job.notify ++ job.notifyOnFailure))
      ) cfg.jobs
    )
    ++ [
      {
        assertion = !cfg.telegram.enable || cfg.telegram.tokenFile != null;
        message = "services.llmorch.telegram.enable needs services.llmorch.telegram.tokenFile (the token from @BotFather).";
      }
      {
        assertion = !cfg.telegram.enable || cfg.settings.telegram.allowed_chat_ids != [ ];
        message = "services.llmorch.telegram answers nobody: set services.llmorch.telegram.allowedChatIds.";
      }
      {
        assertion = lib.all (name: builtins.match "[A-Za-z0-9_-]+" name != null) (attrNames cfg.jobs);
        message = "services.llmorch.jobs names may only use letters, digits, '-' and '_' (they name systemd units).";
      }
    ]
    ++ map (section: {
      assertion = (cfg.settings.${section} or null) == null || (cfg.settings.${section}.api_key or null) == null;
      message = "services.llmorch.settings.${section}.api_key would be world-readable in the Nix store; use services.llmorch.apiKeyFiles.${section} or environmentFile.";
    }) (attrNames apiKeyEnv);

    systemd.services =
      optionalAttrs cfg.ingest.enable {
        llmorch-ingest = mkService {
          description = "llmorch: index the note vault";
          args = [ "ingest" ] ++ cfg.ingest.paths;
          needsNetwork = ingestNeedsNetwork;
        };
      }
      // mapAttrs' (
        name: job:
        nameValuePair (jobUnit name) (mkService {
          description = "llmorch: scheduled ${if job.workflow != null then "workflow" else "question"} '${name}'";
          args = jobArgs name job;
          needsNetwork = true;
          extraConfig = optionalAttrs (job.outputFile != null) {
            # systemd opens the file outside the sandbox, so the service itself needs no write access.
            StandardOutput = "truncate:${job.outputFile}";
          };
        })
      ) cfg.jobs
      // optionalAttrs cfg.server.enable {
        ${serverUnit} =
          let
            service = mkService {
              description = "llmorch: HTTP API and OpenAI-compatible endpoint";
              args = [
                "serve"
                "--host"
                cfg.server.host
                "--port"
                (toString cfg.server.port)
              ];
              needsNetwork = true;
              extraConfig = {
                Type = "exec";
                Restart = "on-failure";
                RestartSec = 5;
              }
              // optionalAttrs (cfg.server.apiKeysFile != null) {
                LoadCredential = loadCredentialLines ++ [ "${serverKeyCredential}:${cfg.server.apiKeysFile}" ];
              };
            };
          in
          service
          // {
            wantedBy = [ "multi-user.target" ];
            environment =
              service.environment
              // optionalAttrs (cfg.server.apiKeysFile != null) {
                LLMORCH_SERVER__API_KEYS_FILE = "/run/credentials/${serverUnit}.service/${serverKeyCredential}";
              };
          };
      }
      // optionalAttrs cfg.telegram.enable {
        ${telegramUnit} =
          let
            service = mkService {
              description = "llmorch: Telegram bot";
              args = [ "telegram" ];
              needsNetwork = true;
              extraConfig = {
                Type = "exec";
                Restart = "on-failure";
                RestartSec = 5;
                LoadCredential =
                  mapAttrsToList (name: file: "${credentialName name}:${file}") credentials
                  ++ optional (cfg.telegram.tokenFile != null) "${telegramTokenCredential}:${cfg.telegram.tokenFile}";
              };
            };
          in
          service
          // {
            wantedBy = [ "multi-user.target" ];
            environment = service.environment // {
              LLMORCH_TELEGRAM__TOKEN_FILE = "/run/credentials/${telegramUnit}.service/${telegramTokenCredential}";
            };
          };
      };

    networking.firewall.allowedTCPPorts = optional (cfg.server.enable && cfg.server.openFirewall) cfg.server.port;

    systemd.timers =
      optionalAttrs cfg.ingest.enable {
        llmorch-ingest = mkTimer "llmorch: index the note vault on schedule" cfg.ingest.schedule;
      }
      // mapAttrs' (
        name: job: nameValuePair (jobUnit name) (mkTimer "llmorch: run job '${name}' on schedule" job.schedule)
      ) cfg.jobs;

    # systemd does not create the folder of a StandardOutput= file; "-" leaves an existing folder as it is.
    systemd.tmpfiles.rules = lib.unique (
      lib.concatMap (
        job: optional (job.outputFile != null) "d ${dirOf job.outputFile} - - - -"
      ) (lib.attrValues cfg.jobs)
    );
  };
}
