"""The NixOS module, evaluated offline with nixpkgs' lib: the units a configuration really produces.

Nix cannot build here, but `nix-instantiate` can evaluate nix/module.nix against stand-ins for the
NixOS option trees (tests/nix/eval-module.nix), writing store files into a private store in tmp_path.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nix_instantiate import REPO, evaluate, requires_nix, run

from llmorch import paths
from llmorch.config import load_config

EVAL_MODULE = Path(__file__).with_name("eval-module.nix")

pytestmark = requires_nix

VAULT = "/srv/notes"
HOME_VAULT = "/home/alice/Vault"
INGEST = f"""
  services.llmorch.ingest = {{
    enable = true;
    paths = [ "{VAULT}" "{HOME_VAULT}" ];
    schedule = "*-*-* 03:00";
  }};
"""
MORNING_JOB = """
  services.llmorch.jobs.morning = {
    query = "What is on my plate today?";
    schedule = "Mon..Fri 07:30";
    mode = "agent";
    outputFile = "/srv/notes/Inbox/morning.md";
  };
"""


@dataclass
class Evaluation:
    services: dict[str, Any]
    timers: dict[str, Any]
    tmpfiles: list[str]
    firewall_ports: list[int]
    failed_assertions: list[str]
    options: list[dict[str, str]]
    store: Path

    def exec_start(self, unit: str) -> list[str]:
        return split_exec_start(self.services[unit]["serviceConfig"]["ExecStart"])

    def store_file(self, store_path: str) -> Path:
        assert store_path.startswith("/nix/store/"), store_path
        return self.store / store_path.lstrip("/")

    def run_unit(self, unit: str, root: Path) -> subprocess.CompletedProcess[str]:
        """The unit's command line, run with this checkout's llmorch in the unit's environment
        (its directories under `root`, its store paths read from the evaluation's store)."""
        _exe, *args = self.exec_start(unit)
        local = [self._local(arg) for arg in args]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMORCH_", "XDG_"))}
        env.update(
            {k: str(root / v.lstrip("/")) for k, v in self.services[unit]["environment"].items()}
        )
        command = [sys.executable, "-m", "llmorch", *local]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    def _local(self, arg: str) -> str:
        """A store path (or `@` and one) as the file in the evaluation's store; other args as they are."""
        at = "@" if arg.startswith("@") else ""
        path = arg.removeprefix(at)
        return at + str(self.store_file(path)) if path.startswith("/nix/store/") else arg

    def store_texts(self) -> dict[str, str]:
        files = (self.store / "nix" / "store").glob("*")
        return {f.name: f.read_text(errors="replace") for f in files if f.is_file()}


def split_exec_start(line: str) -> list[str]:
    """Split an ExecStart= line the way systemd does for the quoting the module emits."""
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(line)]


class NixEval:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.store = workdir / "store"
        self.count = 0

    def run(self, config: str) -> subprocess.CompletedProcess[str]:
        self.count += 1
        config_file = self.workdir / f"configuration-{self.count}.nix"
        config_file.write_text("{\n" + config + "\n}\n")
        return evaluate(EVAL_MODULE, self.workdir, configFile=config_file)

    def __call__(self, config: str) -> Evaluation:
        result = self.run(config)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        return Evaluation(
            services=data["services"],
            timers=data["timers"],
            tmpfiles=data["tmpfiles"],
            firewall_ports=data["firewallPorts"],
            failed_assertions=data["failedAssertions"],
            options=data["options"],
            store=self.store,
        )


@pytest.fixture
def nix_eval(tmp_path: Path) -> NixEval:
    return NixEval(tmp_path)


def test_every_nix_file_parses(tmp_path: Path) -> None:
    nix_files = sorted(
        p for p in REPO.rglob("*.nix") if not p.relative_to(REPO).parts[0].startswith(".")
    )
    names = {str(p.relative_to(REPO)) for p in nix_files}
    assert {"flake.nix", "nix/module.nix", "nix/package.nix"} <= names
    for path in nix_files:
        result = run(["--parse", str(path)], tmp_path)
        assert result.returncode == 0, f"{path}: {result.stderr}"


def test_ingest_service_runs_llmorch_ingest_with_the_generated_config(nix_eval: NixEval) -> None:
    ev = nix_eval(
        'services.llmorch.enable = true;\nservices.llmorch.settings.llm.model = "qwen3-8b";'
        + INGEST
    )
    service = ev.services["llmorch-ingest"]
    assert service["serviceConfig"]["Type"] == "oneshot"
    exe, flag, config_path, *rest = ev.exec_start("llmorch-ingest")
    assert exe.startswith("/nix/store/") and exe.endswith("-llmorch-0.1.0/bin/llmorch")
    assert flag == "--config"
    assert rest == ["ingest", VAULT, HOME_VAULT]

    # The file in the store is one llmorch itself accepts, vault folders included.
    settings = load_config(ev.store_file(config_path)).settings
    assert settings.llm.model == "qwen3-8b"
    assert settings.ingest.paths == [Path(VAULT), Path(HOME_VAULT)]
    assert settings.logging.level == "INFO"


def test_ingest_unit_command_indexes_the_vault_into_the_state_directory(
    nix_eval: NixEval, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "backups.md").write_text("# Backups\n\nRestic runs nightly at 02:00 to the NAS.\n")
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        f'services.llmorch.ingest = {{ enable = true; paths = [ "{vault}" ]; }};'
    )
    service = ev.services["llmorch-ingest"]
    exe, flag, config_path, *args = ev.exec_start("llmorch-ingest")
    assert exe.endswith("/bin/llmorch")

    # Run the unit's command line with this checkout's llmorch, /var re-rooted under tmp_path.
    root = tmp_path / "root"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMORCH_", "XDG_"))}
    env.update({k: str(root / v.lstrip("/")) for k, v in service["environment"].items()})
    llmorch = [sys.executable, "-m", "llmorch", flag, str(ev.store_file(config_path))]
    ingest = subprocess.run(llmorch + args, capture_output=True, text=True, env=env, check=False)
    assert ingest.returncode == 0, ingest.stderr

    state = root / "var" / "lib" / service["serviceConfig"]["StateDirectory"]
    assert (state / "qdrant").is_dir()
    search = subprocess.run(
        [*llmorch, "search", "restic"], capture_output=True, text=True, env=env, check=False
    )
    assert search.returncode == 0, search.stderr
    assert "backups.md" in search.stdout


def test_ingest_timer_fires_on_schedule_and_catches_up_missed_runs(nix_eval: NixEval) -> None:
    ev = nix_eval("services.llmorch.enable = true;" + INGEST)
    timer = ev.timers["llmorch-ingest"]
    assert timer["timerConfig"] == {"OnCalendar": "*-*-* 03:00", "Persistent": True}
    assert timer["wantedBy"] == ["timers.target"]


def test_job_asks_its_question_and_writes_the_answer_to_its_file(nix_eval: NixEval) -> None:
    ev = nix_eval("services.llmorch.enable = true;" + MORNING_JOB)
    unit = "llmorch-job-morning"
    config = ev.services[unit]["serviceConfig"]
    assert config["Type"] == "oneshot"
    assert ev.exec_start(unit)[1] == "--config"
    assert ev.exec_start(unit)[3:] == [
        "ask",
        "-q",
        "What is on my plate today?",
        "--mode",
        "agent",
    ]
    assert config["StandardOutput"] == "truncate:/srv/notes/Inbox/morning.md"
    assert ev.tmpfiles == ["d /srv/notes/Inbox - - - -"]
    assert ev.timers[unit]["timerConfig"] == {"OnCalendar": "Mon..Fri 07:30", "Persistent": True}


def test_job_without_output_file_answers_to_the_journal(nix_eval: NixEval) -> None:
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        'services.llmorch.jobs.weekly = { query = "Summarise the week"; schedule = "Sun 18:00"; };'
    )
    config = ev.services["llmorch-job-weekly"]["serviceConfig"]
    assert "StandardOutput" not in config
    assert ev.exec_start("llmorch-job-weekly")[-2:] == ["--mode", "rag"]
    assert ev.tmpfiles == []


def test_query_with_quotes_and_systemd_specials_reaches_llmorch_unchanged(
    nix_eval: NixEval,
) -> None:
    query = r"""Is 100% of "$HOME" backed up? (see C:\notes & ${x})"""
    nix_string = query.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        f'services.llmorch.jobs.odd = {{ query = "{nix_string}"; schedule = "daily"; }};'
    )
    assert ev.exec_start("llmorch-job-odd")[3:6] == ["ask", "-q", query]


def test_units_are_hardened(nix_eval: NixEval) -> None:
    ev = nix_eval("services.llmorch.enable = true;" + INGEST + MORNING_JOB)
    expected = {
        "DynamicUser": True,
        "User": "llmorch",
        "Group": "llmorch",
        "StateDirectory": "llmorch",
        "CacheDirectory": "llmorch",
        "ProtectSystem": "strict",
        "ProtectHome": "tmpfs",
        "PrivateTmp": True,
        "PrivateDevices": True,
        "NoNewPrivileges": True,
        "RestrictAddressFamilies": ["AF_UNIX", "AF_INET", "AF_INET6"],
        "SystemCallFilter": ["@system-service", "~@privileged"],
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
        "ProtectKernelTunables": True,
        "ProtectKernelModules": True,
        "ProtectControlGroups": True,
        "RestrictNamespaces": True,
        "RestrictSUIDSGID": True,
        "LockPersonality": True,
        "UMask": "0022",
        "StateDirectoryMode": "0700",
        "CacheDirectoryMode": "0700",
    }
    assert set(ev.services) == {"llmorch-ingest", "llmorch-job-morning"}
    for name, service in ev.services.items():
        config = service["serviceConfig"]
        assert {k: config.get(k) for k in expected} == expected, name
        # Home directories are hidden; only the vault folders come back, read-only.
        assert config["BindReadOnlyPaths"] == [VAULT, HOME_VAULT], name
        assert "ReadWritePaths" not in config, name


def test_agent_note_roots_are_visible_read_only(nix_eval: NixEval) -> None:
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        'services.llmorch.settings.tools.note_roots = [ "/srv/journal" ];' + MORNING_JOB
    )
    config = ev.services["llmorch-job-morning"]["serviceConfig"]
    assert config["BindReadOnlyPaths"] == ["/srv/journal"]


def test_units_keep_llmorch_data_in_their_state_and_cache_directories(
    nix_eval: NixEval, monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = nix_eval("services.llmorch.enable = true;" + INGEST)
    service = ev.services["llmorch-ingest"]
    for name, value in service["environment"].items():
        monkeypatch.setenv(name, value)
    state = Path("/var/lib") / service["serviceConfig"]["StateDirectory"]
    cache = Path("/var/cache") / service["serviceConfig"]["CacheDirectory"]
    assert paths.data_dir() == state
    assert paths.state_dir() == state
    assert paths.cache_dir() == cache


def test_api_keys_reach_the_units_as_credentials_and_never_the_store(
    nix_eval: NixEval, tmp_path: Path
) -> None:
    secret = "sk-test-8f1c2d3e4b5a69788796a5b4c3d2e1f0"
    key_file = tmp_path / "llm-key"
    key_file.write_text(secret)
    env_file = tmp_path / "llmorch.env"
    env_file.write_text(f"LLMORCH_EMBEDDING__API_KEY={secret}\n")
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        f'services.llmorch.apiKeyFiles.llm = "{key_file}";\n'
        f'services.llmorch.environmentFile = "{env_file}";' + INGEST + MORNING_JOB
    )
    for name in ev.services:
        config = ev.services[name]["serviceConfig"]
        assert config["LoadCredential"] == [f"llm-api-key:{key_file}"]
        assert config["EnvironmentFile"] == str(env_file)
        loader, exe, *_ = ev.exec_start(name)
        assert exe.endswith("/bin/llmorch")
        loader_text = ev.store_file(loader).read_text()
        assert 'LLMORCH_LLM__API_KEY=$(<"$CREDENTIALS_DIRECTORY/llm-api-key")' in loader_text
        assert 'exec "$@"' in loader_text

    texts = ev.store_texts()
    assert any(name.endswith("-llmorch.yaml") for name in texts)
    assert any(name.endswith("-llmorch-load-credentials") for name in texts)
    leaked = [name for name, text in texts.items() if secret in text]
    assert leaked == []
    units = json.dumps([ev.services, ev.timers])
    assert secret not in units


def test_secret_given_as_a_nix_path_is_rejected_before_it_reaches_the_store(
    nix_eval: NixEval, tmp_path: Path
) -> None:
    (tmp_path / "llm-key").write_text("sk-must-not-be-copied")
    result = nix_eval.run(
        "services.llmorch.enable = true;\nservices.llmorch.apiKeyFiles.llm = ./llm-key;"
        + MORNING_JOB
    )
    assert result.returncode != 0
    assert "apiKeyFiles.llm" in result.stderr
    assert "not in the Nix store" in result.stderr
    store = nix_eval.store / "nix" / "store"
    copied = [p for p in store.glob("*") if p.is_file() and "sk-must-not" in p.read_text()]
    assert copied == []


@pytest.mark.parametrize("section", ["llm", "embedding", "store", "rerank"])
def test_api_key_in_settings_is_refused(nix_eval: NixEval, section: str) -> None:
    ev = nix_eval(
        f'services.llmorch.enable = true;\nservices.llmorch.settings.{section}.api_key = "sk-oops";'
    )
    assert len(ev.failed_assertions) == 1
    assert f"settings.{section}.api_key" in ev.failed_assertions[0]
    assert f"apiKeyFiles.{section}" in ev.failed_assertions[0]


def test_rerank_key_file_is_handed_over_as_its_own_credential(
    nix_eval: NixEval, tmp_path: Path
) -> None:
    key_file = tmp_path / "rerank-key"
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        f'services.llmorch.apiKeyFiles.rerank = "{key_file}";' + MORNING_JOB
    )
    for name in ev.services:
        assert ev.services[name]["serviceConfig"]["LoadCredential"] == [
            f"rerank-api-key:{key_file}"
        ]
        loader = ev.store_file(ev.exec_start(name)[0]).read_text()
        assert 'LLMORCH_RERANK__API_KEY=$(<"$CREDENTIALS_DIRECTORY/rerank-api-key")' in loader


def test_invalid_setups_fail_assertions_with_the_option_to_fix(nix_eval: NixEval) -> None:
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        "services.llmorch.ingest.enable = true;\n"
        'services.llmorch.jobs."my job" = { query = "q"; schedule = "daily"; };'
    )
    assert len(ev.failed_assertions) == 2
    assert "services.llmorch.ingest.paths" in ev.failed_assertions[0]
    assert "services.llmorch.jobs names" in ev.failed_assertions[1]


def test_a_valid_setup_passes_every_assertion(nix_eval: NixEval) -> None:
    ev = nix_eval("services.llmorch.enable = true;" + INGEST + MORNING_JOB)
    assert ev.failed_assertions == []


@pytest.mark.parametrize(
    ("config", "units"),
    [
        pytest.param(
            "services.llmorch.enable = false;" + INGEST + MORNING_JOB, set(), id="disabled"
        ),
        pytest.param("services.llmorch.enable = true;", set(), id="nothing-scheduled"),
        pytest.param(
            "services.llmorch.enable = true;"
            + INGEST.replace("enable = true;", "enable = false;")
            + MORNING_JOB,
            {"llmorch-job-morning"},
            id="ingest-disabled",
        ),
        pytest.param("services.llmorch.enable = true;" + INGEST, {"llmorch-ingest"}, id="no-jobs"),
    ],
)
def test_disabled_features_produce_no_units(
    nix_eval: NixEval, config: str, units: set[str]
) -> None:
    ev = nix_eval(config)
    assert set(ev.services) == units
    assert set(ev.timers) == units
    if "llmorch-job-morning" not in units:
        assert ev.tmpfiles == []


def test_only_units_that_talk_to_servers_wait_for_the_network(nix_eval: NixEval) -> None:
    local = nix_eval("services.llmorch.enable = true;" + INGEST + MORNING_JOB)
    assert local.services["llmorch-ingest"]["after"] == []
    job = local.services["llmorch-job-morning"]
    assert job["after"] == ["network-online.target"]
    assert job["wants"] == ["network-online.target"]

    embedded = nix_eval(
        "services.llmorch.enable = true;\n"
        'services.llmorch.settings.embedding = { base_url = "http://gpu:8081/v1"; model = "bge-m3"; };'
        + INGEST
    )
    assert embedded.services["llmorch-ingest"]["after"] == ["network-online.target"]
    assert embedded.services["llmorch-ingest"]["wants"] == ["network-online.target"]


def test_every_option_is_documented(nix_eval: NixEval) -> None:
    ev = nix_eval("services.llmorch.enable = false;")
    names = {o["name"] for o in ev.options}
    assert {
        "services.llmorch.settings",
        "services.llmorch.apiKeyFiles.llm",
        "services.llmorch.environmentFile",
        "services.llmorch.ingest.schedule",
        "services.llmorch.jobs.<name>.query",
        "services.llmorch.jobs.<name>.outputFile",
    } <= names
    undocumented = [o["name"] for o in ev.options if not (o["description"] or "").strip()]
    assert undocumented == []


EXAMPLE_WORKFLOWS = REPO / "examples" / "workflows"


def test_workflow_job_runs_the_workflow_with_its_input_as_json(
    nix_eval: NixEval, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Shed.md").write_text("# Shed\n\n#client\n\n- [x] roof\n- [ ] door\n")
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        f'services.llmorch.settings.workflows.paths = [ "{EXAMPLE_WORKFLOWS}" ];\n'
        f'services.llmorch.settings.tools.note_roots = [ "{vault}" ];\n'
        "services.llmorch.jobs.review = {\n"
        '  workflow = "weekly_review"; input = { tag = "client"; days = 7; };\n'
        '  schedule = "Fri 16:00"; outputFile = "/srv/notes/review.md";\n'
        "};"
    )
    unit = "llmorch-job-review"
    service = ev.services[unit]
    args = ev.exec_start(unit)[3:]
    assert args[:3] == ["run", "weekly_review", "--input"]
    assert args[3].startswith("@/nix/store/")
    input_file = ev.store_file(args[3][1:])
    assert json.loads(input_file.read_text()) == {"tag": "client", "days": 7}
    assert str(EXAMPLE_WORKFLOWS) in service["serviceConfig"]["BindReadOnlyPaths"]
    assert service["serviceConfig"]["StandardOutput"] == "truncate:/srv/notes/review.md"
    assert ev.timers[unit]["timerConfig"]["OnCalendar"] == "Fri 16:00"
    assert service["serviceConfig"]["ProtectSystem"] == "strict"  # the same hardening as ask jobs

    # The unit's command line, run with this checkout's llmorch, prints the workflow's result.
    result = ev.run_unit(unit, tmp_path / "root")
    assert result.returncode == 0, result.stderr
    assert "| [[Shed]] |" in result.stdout and "| 1 | 1 | in progress |" in result.stdout


def test_a_job_needs_exactly_one_of_query_or_workflow(nix_eval: NixEval) -> None:
    both = nix_eval(
        "services.llmorch.enable = true;\n"
        'services.llmorch.jobs.x = { query = "q"; workflow = "qa"; schedule = "daily"; };'
    )
    assert any("exactly one of `query` or `workflow`" in m for m in both.failed_assertions)
    neither = nix_eval(
        'services.llmorch.enable = true;\nservices.llmorch.jobs.x = { schedule = "daily"; };'
    )
    assert any("exactly one of `query` or `workflow`" in m for m in neither.failed_assertions)
    stray_input = nix_eval(
        "services.llmorch.enable = true;\n"
        'services.llmorch.jobs.x = { query = "q"; input = { a = 1; }; schedule = "daily"; };'
    )
    assert any("input is only used with `workflow`" in m for m in stray_input.failed_assertions)


SERVER = """
  services.llmorch.server = {
    enable = true;
    host = "0.0.0.0";
    port = 9000;
    apiKeysFile = "/run/secrets/llmorch-server-keys";
    openFirewall = true;
  };
"""


def test_server_runs_llmorch_serve_as_a_hardened_long_running_service(nix_eval: NixEval) -> None:
    result = nix_eval("services.llmorch.enable = true;" + SERVER)
    unit = result.services["llmorch-server"]
    config = unit["serviceConfig"]
    assert result.exec_start("llmorch-server")[-5:] == [
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "9000",
    ]
    assert config["Type"] == "exec"
    assert config["Restart"] == "on-failure"
    assert unit["wantedBy"] == ["multi-user.target"]
    assert "network-online.target" in unit["after"]
    for key in ("DynamicUser", "ProtectSystem", "NoNewPrivileges", "SystemCallFilter"):
        assert key in config
    assert "server-api-keys:/run/secrets/llmorch-server-keys" in config["LoadCredential"]
    keys_file = unit["environment"]["LLMORCH_SERVER__API_KEYS_FILE"]
    assert keys_file == "/run/credentials/llmorch-server.service/server-api-keys"
    assert result.firewall_ports == [9000]
    assert not any("llmorch-server-keys" in text for text in result.store_texts().values())


def test_server_firewall_stays_closed_unless_asked(nix_eval: NixEval) -> None:
    result = nix_eval("services.llmorch.enable = true; services.llmorch.server.enable = true;")
    assert result.firewall_ports == []
    assert "LoadCredential" not in result.services["llmorch-server"]["serviceConfig"]
    assert result.failed_assertions == []


def test_server_on_the_network_without_keys_fails_an_assertion(nix_eval: NixEval) -> None:
    result = nix_eval(
        'services.llmorch.enable = true; services.llmorch.server = { enable = true; host = "0.0.0.0"; };'
    )
    assert any("apiKeysFile" in message for message in result.failed_assertions)


NOTIFY_TARGETS = """
  services.llmorch.settings.notify = {
    phone = { kind = "telegram"; chat_id = 42; token_env = "TELEGRAM_TOKEN"; };
    mail = {
      kind = "email"; host = "smtp.example.org"; password_env = "SMTP_PASSWORD";
      sender = "llmorch@example.org"; to = [ "me@example.org" ];
    };
  };
"""


TELEGRAM = """
  services.llmorch.telegram = {
    enable = true;
    tokenFile = "/run/secrets/llmorch-telegram-token";
    allowedChatIds = [ 123456789 (-1001234567890) ];
  };
"""


def test_job_notify_lists_become_notify_flags(nix_eval: NixEval) -> None:
    ev = nix_eval(
        "services.llmorch.enable = true;\n" + NOTIFY_TARGETS + "services.llmorch.jobs.brief = {\n"
        '  query = "What is due?"; schedule = "daily";\n'
        '  notify = [ "phone" ]; notifyOnFailure = [ "mail" ];\n'
        "};"
    )
    assert ev.failed_assertions == []
    args = ev.exec_start("llmorch-job-brief")[3:]
    assert args == [
        "ask", "-q", "What is due?", "--mode", "rag",
        "--notify", "phone", "--notify-on-failure", "mail",
    ]  # fmt: skip


def test_a_job_notifying_a_target_that_is_not_configured_fails_an_assertion(
    nix_eval: NixEval,
) -> None:
    ev = nix_eval(
        "services.llmorch.enable = true;\n" + NOTIFY_TARGETS + "services.llmorch.jobs.brief = {\n"
        '  query = "q"; schedule = "daily"; notifyOnFailure = [ "pager" ];\n'
        "};"
    )
    assert ev.failed_assertions == [
        "services.llmorch.jobs.brief notifies 'pager', which is not in "
        "services.llmorch.settings.notify."
    ]


def test_secret_files_reach_the_units_as_credentials_exported_as_their_variables(
    nix_eval: NixEval, tmp_path: Path
) -> None:
    token = "123456:AAE-telegram-token-never-in-the-store"
    token_file = tmp_path / "telegram-token"
    token_file.write_text(token)
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        + NOTIFY_TARGETS
        + f'services.llmorch.secretFiles.TELEGRAM_TOKEN = "{token_file}";\n'
        + 'services.llmorch.jobs.brief = { query = "q"; schedule = "daily"; notify = [ "phone" ]; };'
    )
    config = ev.services["llmorch-job-brief"]["serviceConfig"]
    assert config["LoadCredential"] == [f"secret-TELEGRAM_TOKEN:{token_file}"]
    loader, *_ = ev.exec_start("llmorch-job-brief")
    loader_text = ev.store_file(loader).read_text()
    assert 'TELEGRAM_TOKEN=$(<"$CREDENTIALS_DIRECTORY/secret-TELEGRAM_TOKEN")' in loader_text
    assert "export TELEGRAM_TOKEN" in loader_text
    assert [name for name, text in ev.store_texts().items() if token in text] == []
    bad = nix_eval(
        f'services.llmorch.enable = true;\nservices.llmorch.secretFiles."1-bad" = "{token_file}";'
    )
    assert any("secretFiles names environment variables" in m for m in bad.failed_assertions)


def test_a_failing_job_sends_its_error_to_its_failure_targets(
    nix_eval: NixEval, tmp_path: Path
) -> None:
    journal = tmp_path / "failures.md"
    ev = nix_eval(
        "services.llmorch.enable = true;\n"
        f'services.llmorch.settings.workflows.paths = [ "{EXAMPLE_WORKFLOWS}" ];\n'
        "services.llmorch.settings.notify.journal = {\n"
        f'  kind = "file"; path = "{journal}";\n'
        "};\n"
        "services.llmorch.jobs.review = {\n"
        '  workflow = "weekly_review"; input = { tag = "client"; days = "a week"; };\n'
        '  schedule = "Fri 16:00"; notifyOnFailure = [ "journal" ];\n'
        "};"
    )
    unit = "llmorch-job-review"
    assert ev.exec_start(unit)[-2:] == ["--notify-on-failure", "journal"]

    # The unit's command line, run with this checkout's llmorch: the job fails on its input.
    result = ev.run_unit(unit, tmp_path / "root")
    assert result.returncode == 2, result.stderr
    sent = journal.read_text(encoding="utf-8")
    assert "llmorch weekly_review: failed" in sent
    assert "error: invalid input for workflow 'weekly_review': days:" in sent
    assert "exit code 2 · no run record" in sent


def test_telegram_runs_the_bot_as_a_hardened_long_running_service(nix_eval: NixEval) -> None:
    result = nix_eval("services.llmorch.enable = true;" + TELEGRAM)
    unit = result.services["llmorch-telegram"]
    config = unit["serviceConfig"]
    assert result.exec_start("llmorch-telegram")[-1] == "telegram"
    assert config["Type"] == "exec"
    assert config["Restart"] == "on-failure"
    assert unit["wantedBy"] == ["multi-user.target"]
    assert "network-online.target" in unit["after"]
    server = nix_eval("services.llmorch.enable = true;" + SERVER).services["llmorch-server"]
    for key in ("DynamicUser", "ProtectSystem", "NoNewPrivileges", "SystemCallFilter", "User"):
        assert config[key] == server["serviceConfig"][key]  # the same sandbox as the server
    assert "telegram-bot-token:/run/secrets/llmorch-telegram-token" in config["LoadCredential"]
    token_file = unit["environment"]["LLMORCH_TELEGRAM__TOKEN_FILE"]
    assert token_file == "/run/credentials/llmorch-telegram.service/telegram-bot-token"
    assert not any("llmorch-telegram-token" in t for t in result.store_texts().values())
    config_path = result.exec_start("llmorch-telegram")[-2]
    settings = load_config(result.store_file(config_path)).settings
    assert settings.telegram.allowed_chat_ids == [123456789, -1001234567890]


def test_telegram_without_a_token_or_chats_fails_an_assertion(nix_eval: NixEval) -> None:
    result = nix_eval("services.llmorch.enable = true; services.llmorch.telegram.enable = true;")
    assert any("telegram.tokenFile" in m for m in result.failed_assertions)
    assert any("allowedChatIds" in m for m in result.failed_assertions)
    assert "llmorch-telegram" not in nix_eval("services.llmorch.enable = true;").services
