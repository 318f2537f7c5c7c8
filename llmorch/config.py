"""Settings: one validated object built from flags, LLMORCH_* environment, a YAML file and defaults.

Precedence, highest first: CLI flags (passed as overrides), environment (`LLMORCH_LLM__BASE_URL`),
the YAML file (`--config`, else `$LLMORCH_CONFIG`, else `$XDG_CONFIG_HOME/llmorch/config.yaml`),
then the defaults below. Unknown keys are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args, get_origin
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from llmorch import paths
from llmorch.errors import ConfigError
from llmorch.redaction import register_secrets

ENV_PREFIX = "LLMORCH_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "LLMORCH_CONFIG"

UserPath = Annotated[Path, AfterValidator(lambda p: p.expanduser())]
"""A path where `~` means the home directory, as users write it in YAML."""


_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def check_collection_name(name: str) -> str:
    """The name unchanged, or ValueError: the edge store uses it as a folder, so `../x` must not
    write outside the index."""
    if not _COLLECTION_NAME.fullmatch(name):
        raise ValueError(
            f"invalid collection name {name!r}: use letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )
    return name


CollectionName = Annotated[str, AfterValidator(check_collection_name)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlmSettings(_Section):
    """The default profile (an OpenAI-compatible server) and which model answers by default."""

    base_url: str = "http://localhost:8080/v1"
    api_key: SecretStr | None = None
    model: str | None = Field(
        default=None,
        description="A profile under `models`, else a model on this server; "
        "unset means the first model the server lists.",
    )
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tool_iterations: int = Field(default=6, ge=1)
    context_length: int = Field(
        default=4096, ge=512, description="Context window in tokens when the server does not say."
    )
    fallback: list[str] = Field(
        default_factory=list[str],
        description="Profiles that answer, in order, when the model's server is down or failing.",
    )


def read_secret(env: str | None, file: Path | None, what: str) -> str | None:
    """A secret from the environment variable or file a setting names; read when it is used."""
    if env is not None:
        return os.environ.get(env) or None
    if file is None:
        return None
    try:
        return file.read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {file}: {exc.strerror or exc}") from exc


ProviderName = Literal["openai", "anthropic"]


class ModelProfile(_Section):
    """A named model: which provider, where, which key, and what it can do when the server won't say."""

    provider: ProviderName = "openai"
    base_url: str | None = Field(
        default=None, description="Unset: the provider's public API (required for openai)."
    )
    model: str | None = None
    api_key: SecretStr | None = Field(
        default=None, description="Prefer api_key_env or api_key_file: a key in the file is warned."
    )
    api_key_env: str | None = Field(default=None, description="Environment variable with the key.")
    api_key_file: UserPath | None = Field(
        default=None, description="File holding the key (systemd credential, agenix, sops)."
    )
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    tools: bool | None = Field(default=None, description="Native tool calls (override).")
    json_schema: bool | None = Field(default=None, description="Enforced JSON Schemas (override).")
    context: int | None = Field(default=None, ge=1, description="Context window in tokens.")

    @model_validator(mode="after")
    def _says_where_and_what(self) -> ModelProfile:
        if self.provider == "openai" and self.base_url is None:
            raise ValueError("base_url is required for provider openai")
        if self.provider == "anthropic" and self.model is None:
            raise ValueError("model is required for provider anthropic (e.g. claude-sonnet-4-5)")
        return self

    def resolved_key(self) -> str | None:
        """The key from wherever the profile says; read when the model is built, never logged."""
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return read_secret(self.api_key_env, self.api_key_file, "API key")


class EmbeddingSettings(_Section):
    base_url: str
    api_key: SecretStr | None = None
    model: str
    batch_size: int = Field(
        default=64, ge=1, description="Texts per request; halved when a server refuses a batch."
    )
    max_input_chars: int = Field(
        default=2000,
        ge=100,
        description="Longer texts are embedded in pieces and averaged (servers cut or refuse them).",
    )
    max_in_flight: int = Field(default=2, ge=1, description="Embedding requests sent at once.")
    timeout_s: float = Field(
        default=120.0, gt=0, description="Per request; a batch that times out is halved."
    )


class RerankSettings(_Section):
    base_url: str = Field(description="The API root; llmorch POSTs to {base_url}/rerank.")
    api_key: SecretStr | None = None
    model: str | None = Field(
        default=None, description="Sent as `model`; servers of one model ignore it."
    )
    candidates: int = Field(
        default=20, ge=1, le=200, description="Best hits of the first ranking sent to be reordered."
    )
    timeout_s: float = Field(
        default=10.0, gt=0, description="Seconds to wait for one rerank request."
    )


class RetrievalSettings(_Section):
    linked_notes: int = Field(
        default=0,
        ge=0,
        le=10,
        description="Notes linked to or from the hits that also give context to ask and agent "
        "mode (their chunk best matching the question); 0 turns it off.",
    )


class StoreSettings(_Section):
    kind: Literal["edge", "server"] = "edge"
    path: UserPath | None = Field(
        default=None, description="Edge shards directory; unset means <data dir>/qdrant."
    )
    url: str | None = None
    api_key: SecretStr | None = None
    collection: CollectionName = "notes"
    busy_timeout_s: float = Field(
        default=5.0,
        ge=0,
        description="How long to wait for an embedded index another process holds before "
        "'busy'; a running `llmorch serve` lets a waiting ingest in at once.",
    )

    @model_validator(mode="after")
    def _server_needs_url(self) -> StoreSettings:
        if self.kind == "server" and not self.url:
            raise ValueError("store.kind is 'server' but store.url is not set")
        return self

    def edge_path(self) -> Path:
        return self.path if self.path is not None else paths.data_dir() / "qdrant"


class IngestSettings(_Section):
    paths: list[UserPath] = Field(default_factory=list[Path])
    include: list[str] = Field(default_factory=lambda: ["**/*.md", "**/*.markdown"])
    exclude: list[str] = Field(default_factory=list[str])
    chunk_size: int = Field(default=1200, ge=200, description="Target chunk size in characters.")
    chunk_overlap: int = Field(default=150, ge=0)
    max_file_bytes: int = Field(default=2_000_000, ge=1)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IngestSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"ingest.chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"ingest.chunk_size ({self.chunk_size})"
            )
        return self


class ToolSettings(_Section):
    timeout_s: float = Field(default=30.0, gt=0)
    max_result_chars: int = Field(default=8000, ge=256)
    note_roots: list[UserPath] = Field(
        default_factory=list[Path],
        description="Folders read_note may read; unset means ingest.paths.",
    )
    require_approval: list[str] | None = Field(
        default=None,
        description="Tool-name patterns that ask before running; unset means every MCP tool "
        "not annotated read-only.",
    )
    allow: list[str] = Field(
        default_factory=list[str],
        description="Tool-name patterns that run without asking, as `--yes` does for all.",
    )


class McpServerSettings(_Section):
    """One MCP server: a command llmorch starts (stdio) or a URL it connects to (streamable HTTP)."""

    command: str | None = None
    args: list[str] = Field(default_factory=list[str])
    env: dict[str, str] = Field(default_factory=dict[str, str])
    cwd: UserPath | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict[str, str])
    headers_from_env: dict[str, str] = Field(
        default_factory=dict[str, str],
        description="Header name -> environment variable holding its value (tokens stay out of the file).",
    )
    start_timeout_s: float = Field(default=20.0, gt=0)
    call_timeout_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (stdio) or url (streamable HTTP)")
        return self


class McpSettings(_Section):
    servers: dict[str, McpServerSettings] = Field(default_factory=dict[str, McpServerSettings])


class WorkflowSettings(_Section):
    paths: list[UserPath] | None = Field(
        default=None,
        description="Python files, or folders of them, defining your own workflows; "
        "null means $XDG_CONFIG_HOME/llmorch/workflows.",
    )

    def search_paths(self) -> list[Path]:
        return [paths.config_dir() / "workflows"] if self.paths is None else self.paths


class LoggingSettings(_Section):
    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "WARNING"
    json_lines: bool = Field(default=False, alias="json")
    file: UserPath | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RunsSettings(_Section):
    enabled: bool = Field(default=True, description="Keep a record of every run in runs.db.")
    store_content: bool = Field(
        default=True,
        description="False keeps only metadata: no inputs, outputs, prompts, answers or arguments.",
    )
    max_age_days: float = Field(
        default=90, ge=0, description="Older runs are dropped; 0 keeps all."
    )
    max_runs: int = Field(default=10000, ge=0, description="Newest runs kept; 0 keeps all.")
    max_payload_chars: int = Field(
        default=20000, ge=256, description="Longer texts are cut, with a marker saying how much."
    )


class ChatSettings(_Section):
    answer_tokens: int = Field(
        default=512, ge=64, description="Room kept free for the answer when fitting the history."
    )


class HookSettings(_Section):
    """One webhook: `POST /hooks/<name>` runs `workflow` with input taken from the JSON body."""

    workflow: str
    secret: SecretStr = Field(description="HMAC key (auth: hmac) or bearer token (auth: bearer).")
    auth: Literal["hmac", "bearer"] = "hmac"
    input: dict[str, str] = Field(
        default_factory=dict[str, str],
        description="Workflow input field -> dotted path in the body ('pull_request.title'); "
        "empty means the body is the input.",
    )


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=1, le=65535)
    api_keys: list[SecretStr] = Field(
        default_factory=list[SecretStr],
        description="Bearer keys clients must send; without any, only loopback may be bound.",
    )
    api_keys_file: UserPath | None = Field(
        default=None, description="A file with one key per line (e.g. a systemd credential)."
    )
    cors_origins: list[str] = Field(default_factory=list[str])
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    request_timeout_s: float = Field(default=300.0, gt=0)
    max_in_flight: int = Field(default=4, ge=1, description="Model requests run at once.")
    queue_timeout_s: float = Field(
        default=30.0, ge=0, description="How long an excess request waits before 503."
    )
    shutdown_timeout_s: float = Field(default=30.0, ge=0)
    hooks: dict[str, HookSettings] = Field(default_factory=dict[str, HookSettings])

    def keys(self) -> list[str]:
        """The configured keys plus those in api_keys_file (read each time: rotation needs no restart)."""
        found = [k.get_secret_value() for k in self.api_keys if k.get_secret_value()]
        if self.api_keys_file is not None:
            try:
                text = self.api_keys_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"server.api_keys_file {self.api_keys_file}: {exc}") from exc
            found += [line.strip() for line in text.splitlines() if line.strip()]
        return found


class _NotifyTargetBase(_Section):
    timeout_s: float = Field(default=10.0, gt=0, description="Per attempt.")
    retries: int = Field(
        default=2, ge=0, description="Further attempts after a network error, 429 or 5xx."
    )


class TelegramNotify(_NotifyTargetBase):
    """A message to a Telegram chat through the Bot API's sendMessage."""

    kind: Literal["telegram"]
    chat_id: int | str = Field(description="A chat's number, or @channelname.")
    token_env: str | None = Field(default=None, description="Environment variable with the token.")
    token_file: UserPath | None = Field(default=None, description="File holding the bot token.")
    api_base: str = "https://api.telegram.org"

    @model_validator(mode="after")
    def _one_token_source(self) -> TelegramNotify:
        if (self.token_env is None) == (self.token_file is None):
            raise ValueError("give either token_env or token_file (the bot token from BotFather)")
        return self

    def token(self) -> str | None:
        return read_secret(self.token_env, self.token_file, "Telegram token")


class WebhookNotify(_NotifyTargetBase):
    """An HTTP POST: the notification as JSON, or (format: text) as a plain body, ntfy-style."""

    kind: Literal["webhook"]
    url: str
    format: Literal["json", "text"] = "json"
    headers: dict[str, str] = Field(default_factory=dict[str, str])
    headers_from_env: dict[str, str] = Field(
        default_factory=dict[str, str],
        description="Header name -> environment variable holding its value.",
    )

    def all_headers(self) -> dict[str, str]:
        from_env = {name: os.environ.get(var, "") for name, var in self.headers_from_env.items()}
        return {**self.headers, **{k: v for k, v in from_env.items() if v}}


class EmailNotify(_NotifyTargetBase):
    """A mail sent over SMTP; the password from an environment variable or a file."""

    kind: Literal["email"]
    host: str
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Unset: 587 (starttls), 465 (tls) or 25 (none)."
    )
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    password_file: UserPath | None = None
    sender: str
    to: list[str] = Field(min_length=1)
    subject_prefix: str = "[llmorch] "

    def password(self) -> str | None:
        return read_secret(self.password_env, self.password_file, "SMTP password")

    def resolved_port(self) -> int:
        return self.port or {"starttls": 587, "tls": 465, "none": 25}[self.security]


class FileNotify(_NotifyTargetBase):
    """A local file: each notification appended under a heading, or the file replaced."""

    kind: Literal["file"]
    path: UserPath
    mode: Literal["append", "overwrite"] = "append"


NotifyTarget = Annotated[
    TelegramNotify | WebhookNotify | EmailNotify | FileNotify, Field(discriminator="kind")
]


class TelegramSettings(_Section):
    """`llmorch telegram`: who the bot answers, where its token comes from, how it streams."""

    allowed_chat_ids: list[int] = Field(
        default_factory=list[int],
        description="Chats (users, groups) the bot answers; every other message is logged and "
        "left unanswered. Empty: nobody.",
    )
    token_env: str = Field(
        default="TELEGRAM_BOT_TOKEN", description="Environment variable holding the bot token."
    )
    token_file: UserPath | None = Field(
        default=None, description="File holding the token (systemd credential); wins over env."
    )
    api_url: str = Field(
        default="https://api.telegram.org",
        description="The Bot API server (a self-hosted telegram-bot-api, or a test stand-in).",
    )
    # The same names as workflows.modes.AskMode, spelled out: config sits below the workflows.
    mode: Literal["rag", "agent", "plain"] = Field(
        default="rag", description="How a new chat's questions are answered."
    )
    edit_interval_s: float = Field(
        default=1.0, ge=0.2, description="Least time between two edits of a streaming answer."
    )
    max_in_flight: int = Field(default=1, ge=1, description="Answers generated at once.")

    def resolved_token(self) -> str:
        """The token from token_file, else $token_env; a ConfigError saying where to put it."""
        if self.token_file is not None:
            try:
                token = self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read telegram.token_file {self.token_file}: {exc.strerror or exc}"
                ) from exc
        else:
            token = os.environ.get(self.token_env, "").strip()
        if not token:
            where = f"file {self.token_file}" if self.token_file else f"${self.token_env}"
            raise ConfigError(
                f"no Telegram bot token in {where}",
                hint="get one from @BotFather and put it there (see README, 'telegram')",
            )
        return token


class Settings(BaseSettings):
    llm: LlmSettings = Field(default_factory=LlmSettings)
    models: dict[str, ModelProfile] = Field(default_factory=dict[str, ModelProfile])
    embedding: EmbeddingSettings | None = None
    rerank: RerankSettings | None = None
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    runs: RunsSettings = Field(default_factory=RunsSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    notify: dict[str, NotifyTarget] = Field(default_factory=dict[str, NotifyTarget])
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
    )

    @model_validator(mode="after")
    def _fallback_names_profiles(self) -> Settings:
        named = self.llm.fallback
        for name in named:
            if name not in self.models:
                known = ", ".join(sorted(self.models)) or "none defined"
                raise ValueError(f"llm.fallback names {name!r}, which is not a profile ({known})")
        chain = [self.llm.model or "default", *named]
        repeated = sorted({name for name in chain if chain.count(name) > 1})
        if repeated:
            raise ValueError(
                f"llm.fallback is a cycle: {' → '.join(chain)} comes back to {repeated[0]!r}"
            )
        return self

    def secret_values(self) -> list[str]:
        """Every configured secret, so every output can redact them: the API keys, the hook
        secrets and the passwords written into the configured URLs (`http://bob:secret@host/v1`)."""
        secrets = [self.llm.api_key, self.store.api_key, *self.server.api_keys]
        secrets += [hook.secret for hook in self.server.hooks.values()]
        urls = [self.llm.base_url, self.store.url]
        if self.embedding is not None:
            secrets.append(self.embedding.api_key)
            urls.append(self.embedding.base_url)
        if self.rerank is not None:
            secrets.append(self.rerank.api_key)
            urls.append(self.rerank.base_url)
        values = [s.get_secret_value() for s in secrets if s is not None]
        for server in self.mcp.servers.values():
            values += [v for var in server.headers_from_env.values() if (v := os.environ.get(var))]
        values += self._notify_secrets()
        urls += [t.url for t in self.notify.values() if isinstance(t, WebhookNotify)]
        with contextlib.suppress(ConfigError):  # no bot configured: nothing to redact
            values.append(self.telegram.resolved_token())
        for profile in self.models.values():
            urls.append(profile.base_url)
            # An unreadable key is reported when the profile is used; redaction cannot use it.
            with contextlib.suppress(ConfigError):
                values.append(profile.resolved_key() or "")
        values += [
            unquote(password) for url in urls if url and (password := urlsplit(url).password)
        ]
        return [v for v in values if v]

    def _notify_secrets(self) -> list[str]:
        """Tokens, passwords and header values of the notification targets."""
        values: list[str] = []
        for target in self.notify.values():
            # An unreadable file is reported when the target is used; redaction cannot use it.
            with contextlib.suppress(ConfigError):
                if isinstance(target, TelegramNotify):
                    values.append(target.token() or "")
                elif isinstance(target, EmailNotify):
                    values.append(target.password() or "")
            if isinstance(target, WebhookNotify):
                values += [
                    v for var in target.headers_from_env.values() if (v := os.environ.get(var))
                ]
        return values

    def plain_text_keys(self, file_data: dict[str, Any]) -> list[str]:
        """Keys written into the config file itself, which a user may share or commit by mistake."""

        def written(parts: list[str]) -> bool:
            return _lookup(file_data, parts) not in (None, "", _ABSENT)

        found = ["llm.api_key"] if written(["llm", "api_key"]) else []
        for name in self.models:
            if written(["models", name, "api_key"]):
                found.append(f"models.{name}.api_key")
        return found

    def note_roots(self) -> list[Path]:
        return self.tools.note_roots or self.ingest.paths


class _MappingSource(PydanticBaseSettingsSource):
    """Feeds already-parsed YAML into pydantic-settings below the environment."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


@dataclass(frozen=True)
class LoadedConfig:
    """The settings plus what they were built from, so `config show` can say where a value came from."""

    settings: Settings
    file: Path | None
    file_data: dict[str, Any] = field(default_factory=dict[str, Any])
    overrides: dict[str, Any] = field(default_factory=dict[str, Any])

    def origin(self, dotted_key: str) -> str:
        parts = dotted_key.split(".")
        if _lookup(self.overrides, parts) not in (None, _ABSENT):
            return "flag"
        # The key's own variable, else a whole section given as JSON (`LLMORCH_EMBEDDING='{…}'`).
        for depth in range(len(parts), 0, -1):
            env_name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(p.upper() for p in parts[:depth])
            if env_name in os.environ and _env_sets(os.environ[env_name], parts[depth:]):
                return f"env {env_name}"
        if _lookup(self.file_data, parts) is not _ABSENT:
            return f"config file {self.file}"  # set in the file, `null` included
        return "default"


_ABSENT = object()


def _lookup(data: dict[str, Any], parts: list[str]) -> Any:
    """The value at `parts`, None when set to null, `_ABSENT` when not set at all."""
    node: Any = data
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return _ABSENT
        node = node[part]  # pyright: ignore[reportUnknownVariableType]
    return node  # pyright: ignore[reportUnknownVariableType]


def _env_sets(value: str, parts: list[str]) -> bool:
    """Whether a variable's value sets the key `parts` below it (JSON for a whole section)."""
    if not parts:
        return True
    try:
        data = json.loads(value)
    except ValueError:
        return False
    return isinstance(data, dict) and _lookup(cast("dict[str, Any]", data), parts) is not _ABSENT


def resolve_config_file(explicit: Path | None) -> tuple[Path, bool]:
    """The file to read and whether the user named it (a named file must exist).

    `~` is expanded: no shell does it in `--config=~/x.yaml` or a systemd `Environment=` line.
    """
    if explicit is not None:
        return explicit.expanduser(), True
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser(), True
    return paths.default_config_file(), False


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path}: not valid UTF-8 (byte {exc.start})",
            hint="save it as UTF-8 in your editor",
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {path}{line}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping of sections")
    sections = cast("dict[str, Any]", data)
    # `llm:` with every key commented out is an empty section: defaults (or, for embedding, absent).
    return {name: value for name, value in sections.items() if value is not None}


def load_config(
    config_file: Path | None = None, overrides: dict[str, Any] | None = None
) -> LoadedConfig:
    """Build Settings from every source; any problem becomes one ConfigError naming key and source."""
    _check_env_names()
    path, required = resolve_config_file(config_file)
    if not path.exists():
        if required:
            raise ConfigError(
                f"config file {path} does not exist", hint="run `llmorch config init`"
            )
        file_data: dict[str, Any] = {}
        used_file: Path | None = None
    else:
        file_data = read_config_file(path)
        used_file = path
    flags = overrides or {}

    class _FromSources(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _MappingSource(settings_cls, file_data))

    partial = LoadedConfig(Settings.model_construct(), used_file, file_data, flags)
    try:
        built = _FromSources(**flags)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, partial)) from exc
    except SettingsError as exc:  # an environment value it had to parse as JSON did not parse
        raise _env_json_error(exc) from exc
    settings = Settings.model_validate(built.model_dump(by_alias=True))
    register_secrets(settings.secret_values())
    return LoadedConfig(settings, used_file, file_data, flags)


def _check_env_names() -> None:
    """pydantic-settings ignores variables that name no setting; a typo must not do nothing.
    Only names shaped like settings are checked (a `__`, or a section then `_`), so other
    LLMORCH_* variables of the environment (scripts, packaging) stay theirs."""
    sections = {name.upper() for name in Settings.model_fields}
    for name in sorted(os.environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].upper()
        section, nested, _ = rest.partition(ENV_NESTED_DELIMITER)
        if nested and section not in sections:
            raise ConfigError(f"env {name}: unknown section {section.lower()!r}")
        if nested:
            continue
        for known in sections:
            if section.startswith(known + "_"):
                meant = f"{ENV_PREFIX}{known}{ENV_NESTED_DELIMITER}{section[len(known) + 1 :]}"
                raise ConfigError(
                    f"env {name}: not a setting", hint=f"did you mean {meant}? (two underscores)"
                )


def _describe_validation_error(exc: ValidationError, loaded: LoadedConfig) -> str:
    first = exc.errors()[0]
    # A check across sections (llm.fallback against models) has no location of its own.
    key = ".".join(str(p) for p in first["loc"]) or "llm.fallback"
    problem = first["msg"].removeprefix("Value error, ")
    origin = loaded.origin(key)
    if first["type"] == "value_error":
        problem = str(first.get("ctx", {}).get("error", problem))  # without pydantic's prefix
    if len(first["loc"]) == 1 and key in Settings.model_fields:
        origin = _section_origin(loaded, key)  # a check across a section's keys
    if first["type"] == "extra_forbidden":
        problem = "unknown key"
    elif first["type"] == "missing" and len(first["loc"]) > 1:
        # A required key of an optional section (embedding.base_url): blame whoever set the section.
        section = str(first["loc"][0])
        origin = _section_origin(loaded, section)
        problem = f"required when the {section} section is set"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{origin}: {key}: {problem}{suffix}"


def _section_origin(loaded: LoadedConfig, section: str) -> str:
    if section in loaded.overrides:
        return "flag"
    prefix = ENV_PREFIX + section.upper()
    for name in sorted(os.environ):
        if name.upper() == prefix or name.upper().startswith(prefix + ENV_NESTED_DELIMITER):
            return f"env {name}"
    if section in loaded.file_data:
        return f"config file {loaded.file}"
    return "default"


def _env_json_error(exc: SettingsError) -> ConfigError:
    """pydantic-settings names only the section; find the variable that is not valid JSON."""
    for name, key in _json_env_vars():
        try:
            json.loads(os.environ[name])
        except ValueError:
            shape = 'list, e.g. \'["a", "b"]\'' if "." in key else "object"
            return ConfigError(f"env {name}: {key}: not valid JSON (write a JSON {shape})")
    return ConfigError(f"environment: {exc}")


def _json_env_vars() -> Iterator[tuple[str, str]]:
    """The set LLMORCH_* variables read as JSON: whole sections and list-valued keys."""
    for section, section_field in Settings.model_fields.items():
        name = ENV_PREFIX + section.upper()
        if name in os.environ:
            yield name, section
        for model in get_args(section_field.annotation) or (section_field.annotation,):
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            for key, key_field in model.model_fields.items():
                name = f"{ENV_PREFIX}{section.upper()}{ENV_NESTED_DELIMITER}{key.upper()}"
                if get_origin(key_field.annotation) is list and name in os.environ:
                    yield name, f"{section}.{key}"
