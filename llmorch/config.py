"""Settings: one validated object built from flags, LLMORCH_* environment, a YAML file and defaults.

Precedence, highest first: CLI flags (passed as overrides), environment (`LLMORCH_LLM__BASE_URL`),
the YAML file (`--config`, else `$LLMORCH_CONFIG`, else `$XDG_CONFIG_HOME/llmorch/config.yaml`),
then the defaults below. Unknown keys are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from llmorch import paths
from llmorch.errors import ConfigError

ENV_PREFIX = "LLMORCH_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "LLMORCH_CONFIG"

UserPath = Annotated[Path, AfterValidator(lambda p: p.expanduser())]
"""A path where `~` means the home directory, as users write it in YAML."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlmSettings(_Section):
    base_url: str = "http://localhost:8080/v1"
    api_key: SecretStr | None = None
    model: str | None = Field(
        default=None, description="Model name; unset means the first model the server lists."
    )
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tool_iterations: int = Field(default=6, ge=1)


class EmbeddingSettings(_Section):
    base_url: str
    api_key: SecretStr | None = None
    model: str
    batch_size: int = Field(default=64, ge=1)


class StoreSettings(_Section):
    kind: Literal["edge", "server"] = "edge"
    path: UserPath | None = Field(
        default=None, description="Edge shards directory; unset means <data dir>/qdrant."
    )
    url: str | None = None
    api_key: SecretStr | None = None
    collection: str = "notes"
    busy_timeout_s: float = Field(
        default=5.0,
        ge=0,
        description="How long to wait for an embedded index another process holds before "
        "'busy'; a running `llmorch serve` lets a waiting ingest in at once.",
    )

    def edge_path(self) -> Path:
        return self.path if self.path is not None else paths.data_dir() / "qdrant"


class IngestSettings(_Section):
    paths: list[UserPath] = Field(default_factory=list[Path])
    include: list[str] = Field(default_factory=lambda: ["**/*.md", "**/*.markdown"])
    exclude: list[str] = Field(default_factory=list[str])
    chunk_size: int = Field(default=1200, ge=200, description="Target chunk size in characters.")
    chunk_overlap: int = Field(default=150, ge=0)
    max_file_bytes: int = Field(default=2_000_000, ge=1)


class ToolSettings(_Section):
    timeout_s: float = Field(default=30.0, gt=0)
    max_result_chars: int = Field(default=8000, ge=256)
    note_roots: list[UserPath] = Field(
        default_factory=list[Path],
        description="Folders read_note may read; unset means ingest.paths.",
    )


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


class ChatSettings(_Section):
    context_tokens: int = Field(
        default=4096,
        ge=512,
        description="The model's context window when its server does not say (llama.cpp does).",
    )
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


class Settings(BaseSettings):
    llm: LlmSettings = Field(default_factory=LlmSettings)
    embedding: EmbeddingSettings | None = None
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
    )

    def secret_values(self) -> list[str]:
        """Every configured secret, so log sinks can redact them."""
        secrets = [self.llm.api_key, self.store.api_key, *self.server.api_keys]
        secrets += [hook.secret for hook in self.server.hooks.values()]
        if self.embedding is not None:
            secrets.append(self.embedding.api_key)
        return [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]

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
        if _lookup(self.overrides, parts) is not None:
            return "flag"
        env_name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(p.upper() for p in parts)
        if env_name in os.environ:
            return f"env {env_name}"
        if _lookup(self.file_data, parts) is not None:
            return f"config file {self.file}"
        return "default"


def _lookup(data: dict[str, Any], parts: list[str]) -> Any:
    node: Any = data
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]  # pyright: ignore[reportUnknownVariableType]
    return node  # pyright: ignore[reportUnknownVariableType]


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
    return LoadedConfig(settings, used_file, file_data, flags)


def _describe_validation_error(exc: ValidationError, loaded: LoadedConfig) -> str:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    problem = first["msg"]
    origin = loaded.origin(key)
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
