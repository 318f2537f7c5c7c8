from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llmorch.config import Settings, load_config
from llmorch.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file() -> None:
    settings = load_config().settings
    assert settings.llm.base_url == "http://localhost:8080/v1"
    assert settings.store.kind == "edge"
    assert settings.store.collection == "notes"
    assert settings.embedding is None


def test_flags_beat_env_beat_file_beat_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path / "c.yaml",
        "llm:\n  model: from-file\n  temperature: 0.9\n  timeout_s: 5\n",
    )
    monkeypatch.setenv("LLMORCH_LLM__MODEL", "from-env")
    monkeypatch.setenv("LLMORCH_LLM__TEMPERATURE", "0.7")
    loaded = load_config(config, {"llm": {"temperature": 0.1}})
    llm = loaded.settings.llm
    assert (llm.temperature, llm.model, llm.timeout_s, llm.max_retries) == (0.1, "from-env", 5, 2)
    assert loaded.origin("llm.temperature") == "flag"
    assert loaded.origin("llm.model") == "env LLMORCH_LLM__MODEL"
    assert loaded.origin("llm.timeout_s") == f"config file {config}"
    assert loaded.origin("llm.max_retries") == "default"


def test_config_file_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "c.yaml", "store:\n  collection: work\n")
    monkeypatch.setenv("LLMORCH_CONFIG", str(config))
    assert load_config().settings.store.collection == "work"


def test_xdg_config_file_is_read_when_present(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg" / "config" / "llmorch"
    xdg.mkdir(parents=True)
    write(xdg / "config.yaml", "llm:\n  max_tool_iterations: 3\n")
    assert load_config().settings.llm.max_tool_iterations == 3


def test_unknown_key_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "llm:\n  base_ulr: http://x\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(config) in caught.value.message
    assert "llm.base_ulr: unknown key" in caught.value.message


def test_invalid_value_names_key_and_problem(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "store:\n  kind: sqlite\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "store.kind" in caught.value.message
    assert "'edge' or 'server'" in caught.value.message


def test_invalid_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMORCH_LLM__TIMEOUT_S", "soon")
    with pytest.raises(ConfigError, match=r"env LLMORCH_LLM__TIMEOUT_S: llm\.timeout_s"):
        load_config()


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "llm:\n  model: [unclosed\n")
    with pytest.raises(ConfigError, match=r"c\.yaml line \d+"):
        load_config(config)


def test_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path / "c.yaml", "- a\n- b\n"))


def test_home_is_expanded_in_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = write(tmp_path / "c.yaml", "ingest:\n  paths: [~/vault]\n")
    assert load_config(config).settings.ingest.paths == [tmp_path / "vault"]


def test_example_config_loads_and_covers_every_key() -> None:
    example = REPO / "config.example.yaml"
    settings = load_config(example).settings
    assert settings == load_config().settings, "the example documents the defaults"
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    for section, model in Settings.model_fields.items():
        assert section in data, f"config.example.yaml lacks section {section}"
        annotation = model.annotation
        fields = getattr(annotation, "model_fields", None)
        if fields is None:  # optional section documented as a commented example
            continue
        for name, field in fields.items():
            key = field.alias or name
            assert key in data[section], f"config.example.yaml lacks {section}.{key}"


def test_secret_values_are_collected_for_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMORCH_LLM__API_KEY", "sk-live-123456789")
    monkeypatch.setenv("LLMORCH_STORE__API_KEY", "qdrant-secret")
    settings = load_config().settings
    assert sorted(settings.secret_values()) == ["qdrant-secret", "sk-live-123456789"]
    assert "sk-live" not in repr(settings)


def test_a_list_from_env_that_is_not_json_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMORCH_INGEST__PATHS", "~/vault")
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = caught.value.message
    assert message.startswith("env LLMORCH_INGEST__PATHS: ingest.paths: not valid JSON")
    assert "JSON list" in message


def test_a_list_from_env_as_json_is_read_with_home_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LLMORCH_TOOLS__NOTE_ROOTS", '["~/vault", "/srv/notes"]')
    roots = load_config().settings.tools.note_roots
    assert roots == [tmp_path / "vault", Path("/srv/notes")]


def test_an_optional_section_missing_a_required_key_names_who_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMORCH_EMBEDDING__MODEL", "nomic-embed-text")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.message == (
        "env LLMORCH_EMBEDDING__MODEL: embedding.base_url: required when the embedding section is set"
    )
    monkeypatch.delenv("LLMORCH_EMBEDDING__MODEL")
    config = write(tmp_path / "c.yaml", "embedding:\n  base_url: http://localhost:11434/v1\n")
    with pytest.raises(ConfigError, match=rf"^config file {config}: embedding\.model: required"):
        load_config(config)


def test_an_empty_config_file_means_defaults(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path / "c.yaml", "# nothing set yet\n"))
    assert loaded.settings == load_config().settings
    assert loaded.file == tmp_path / "c.yaml"


def test_a_config_path_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)


def test_a_section_with_every_key_commented_out_means_its_defaults(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml", "llm:\n  # model: qwen3:8b\nembedding:\nstore:\n  kind: edge\n"
    )
    settings = load_config(config).settings
    assert settings.llm == load_config().settings.llm
    assert settings.embedding is None


def test_home_is_expanded_in_the_config_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "c.yaml", "store:\n  collection: work\n")
    monkeypatch.setenv("LLMORCH_CONFIG", "~/c.yaml")  # as a systemd Environment= line leaves it
    assert load_config().settings.store.collection == "work"
    monkeypatch.delenv("LLMORCH_CONFIG")
    assert load_config(Path("~/c.yaml")).file == tmp_path / "c.yaml"  # --config=~/c.yaml


def test_a_chunk_overlap_as_large_as_the_chunk_is_refused(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "ingest:\n  chunk_size: 300\n  chunk_overlap: 400\n")
    with pytest.raises(
        ConfigError, match=r"c\.yaml: ingest: .*chunk_overlap \(400\) must be smaller"
    ):
        load_config(config)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("LLMORCH_FOO__BAR", "env LLMORCH_FOO__BAR: unknown section 'foo'"),
        ("LLMORCH_LLM_MODEL", "did you mean LLMORCH_LLM__MODEL? (two underscores)"),
        ("LLMORCH_LLM__MODLE", "env LLMORCH_LLM__MODLE: llm.modle: unknown key"),
    ],
)
def test_an_environment_variable_that_names_no_setting_is_an_error(
    monkeypatch: pytest.MonkeyPatch, name: str, says: str
) -> None:
    monkeypatch.setenv(name, "x")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert says in str(caught.value)


def test_other_llmorch_variables_of_the_environment_are_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMORCH_CACHE", "/tmp/cache")
    load_config()
