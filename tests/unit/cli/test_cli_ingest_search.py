from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_invoke import Invoke


def test_ingest_prints_a_summary_table_with_skipped_files_and_reasons(
    cli: Invoke, vault: Path
) -> None:
    result = cli("ingest", str(vault))
    assert result.exit_code == 0, result.output
    assert "added" in result.stdout
    assert "photo.md" in result.stdout
    assert "binary file" in result.stdout


def test_second_ingest_changes_nothing(cli: Invoke, indexed: Path) -> None:
    result = cli("ingest", str(indexed), "--json")
    summary = json.loads(result.stdout)
    assert summary["added"] == [] and summary["updated"] == [] and summary["deleted"] == []
    assert summary["unchanged"] == 3


def test_dry_run_reports_but_writes_nothing(cli: Invoke, vault: Path) -> None:
    dry = json.loads(cli("ingest", str(vault), "--dry-run", "--json").stdout)
    assert len(dry["added"]) == 3
    assert dry["chunks_total"] == 0
    assert cli("search", "restic").exit_code == 6


def test_ingest_without_path_uses_configured_paths(cli: Invoke, config: Path, vault: Path) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["ingest"] = {"paths": [str(vault)]}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = cli("ingest", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["added"]) == 3


def test_ingest_without_path_or_configured_paths_is_exit_8(cli: Invoke) -> None:
    result = cli("ingest")
    assert result.exit_code == 8
    assert result.stderr.startswith("error: no PATH given")
    assert "Traceback" not in result.stderr


def test_ingest_of_a_missing_folder_is_exit_8(cli: Invoke, tmp_path: Path) -> None:
    result = cli("ingest", str(tmp_path / "nope"))
    assert result.exit_code == 8
    assert "no such file or folder" in result.stderr


def test_search_shows_the_matching_note_and_heading_in_a_table(cli: Invoke, indexed: Path) -> None:
    result = cli("search", "restic snapshots nightly")
    assert result.exit_code == 0, result.output
    first_row = next(line for line in result.stdout.splitlines() if "│ 1 " in line)
    assert "Backup strategy.md#" in first_row
    assert "Schedule" in result.stdout


def test_search_json_hits_carry_what_a_citation_needs(cli: Invoke, indexed: Path) -> None:
    hits = json.loads(cli("search", "tomatoes", "--json", "--limit", "2").stdout)
    assert 1 <= len(hits) <= 2
    assert hits[0]["path"] == "Garden.md"
    assert {"path", "heading", "title", "snippet", "score", "tags", "root"} <= hits[0].keys()
    assert hits[0]["root"] == str(indexed.resolve())
    assert "text" not in hits[0]


def test_search_tags_filter_keeps_only_tagged_notes(cli: Invoke, indexed: Path) -> None:
    hits = json.loads(
        cli("search", "notes snapshots tomatoes", "--tags", "#garden", "--json").stdout
    )
    assert [h["path"] for h in hits] == ["Garden.md"]


def test_search_all_tags_requires_every_tag(cli: Invoke, indexed: Path) -> None:
    words = "snapshots tomatoes"
    hits = json.loads(cli("search", words, "-t", "backup,garden", "--json").stdout)
    assert {h["path"] for h in hits} == {"Backup strategy.md", "Garden.md"}
    hits = json.loads(cli("search", words, "-t", "backup,garden", "--all-tags", "--json").stdout)
    assert hits == []
    hits = json.loads(cli("search", words, "-t", "Homelab,backup", "--all-tags", "--json").stdout)
    assert {h["path"] for h in hits} == {"Backup strategy.md"}


def test_search_path_keeps_one_folder(cli: Invoke, indexed: Path) -> None:
    words = "local-first CLI snapshots tomatoes"
    assert len({h["path"] for h in json.loads(cli("search", words, "--json").stdout)}) == 3
    for prefix in ("projects/", "./projects", "projects"):
        hits = json.loads(cli("search", words, "--path", prefix, "--json").stdout)
        assert [h["path"] for h in hits] == ["projects/Llmorch.md"]


def test_search_path_is_a_folder_not_a_string_prefix(cli: Invoke, vault: Path) -> None:
    (vault / "projects-old").mkdir()
    (vault / "projects-old" / "Old.md").write_text("# Old\n\nlocal-first CLI, retired.\n")
    assert cli("ingest", str(vault)).exit_code == 0
    for prefix in ("proj", "projects"):
        hits = json.loads(cli("search", "local-first CLI", "--path", prefix, "--json").stdout)
        assert all(h["path"].startswith("projects/") for h in hits), prefix
    hits = json.loads(cli("search", "local-first CLI", "--path", "projects-old", "--json").stdout)
    assert [h["path"] for h in hits] == ["projects-old/Old.md"]


def test_search_before_any_ingest_says_to_ingest_first(cli: Invoke) -> None:
    result = cli("search", "anything")
    assert result.exit_code == 6
    assert "llmorch ingest" in result.stderr
    assert "Traceback" not in result.stderr


def test_search_of_a_collection_never_ingested_is_exit_6(cli: Invoke, indexed: Path) -> None:
    assert cli("search", "restic", "--collection", "other").exit_code == 6


def test_search_for_nothing_is_a_usage_error_not_a_traceback(cli: Invoke, indexed: Path) -> None:
    result = cli("search", "   ")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_search_table_names_the_folder_when_two_folders_share_a_path(
    cli: Invoke, tmp_path: Path
) -> None:
    for folder in ("work", "home"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "todo.md").write_text(f"# Todo\n\nrenew {folder} passport\n")
    assert cli("ingest", str(tmp_path / "work"), str(tmp_path / "home")).exit_code == 0
    result = cli("search", "renew passport")
    assert result.exit_code == 0, result.output
    assert "work/todo.md#Todo" in result.stdout and "home/todo.md#Todo" in result.stdout


def test_searching_a_parent_tag_finds_notes_with_its_nested_tags(
    cli: Invoke, tmp_path: Path
) -> None:
    vault = tmp_path / "nested"
    vault.mkdir()
    (vault / "Offsite.md").write_text(
        "---\ntags: [homelab/backup]\n---\n# Offsite\n\nrestic copy\n"
    )
    (vault / "Other.md").write_text("# Other\n\nrestic elsewhere #misc\n")
    assert cli("ingest", str(vault)).exit_code == 0
    hits = json.loads(cli("search", "restic", "--tags", "homelab", "--json").stdout)
    assert [hit["path"] for hit in hits] == ["Offsite.md"]


@pytest.mark.parametrize(
    ("setting", "code"),
    [
        ({"LLMORCH_STORE__COLLECTION": "a b"}, 3),
        ({"LLMORCH_STORE__KIND": "server"}, 3),
    ],
)
def test_a_store_misconfigured_in_the_config_is_a_configuration_error(
    cli: Invoke, vault: Path, monkeypatch: pytest.MonkeyPatch, setting: dict[str, str], code: int
) -> None:
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    for args in (("search", "x"), ("ingest", str(vault))):
        result = cli(*args)
        assert result.exit_code == code, (args, result.output)
        assert result.stderr.startswith("error: env LLMORCH_STORE__")


def test_an_invalid_collection_flag_is_a_usage_error(cli: Invoke, vault: Path) -> None:
    for args in (
        ("search", "x", "--collection", "a b"),
        ("ingest", str(vault), "--collection", "../x"),
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "--collection" in result.stderr


def test_paths_and_text_are_printed_as_they_are_not_as_emoji(cli: Invoke, vault: Path) -> None:
    (vault / "kiwi :x: name.md").write_text("# Kiwi\n\nroot:x:0:0 kiwifruit harvest\n")
    assert cli("ingest", str(vault)).exit_code == 0
    result = cli("search", "kiwifruit harvest")
    assert result.exit_code == 0, result.output
    assert "kiwi :x: name.md" in result.stdout
    assert "root:x:0:0" in result.stdout
    assert "❌" not in result.stdout


def test_search_related_of_an_unknown_note_is_exit_6_and_no_query_is_exit_2(
    cli: Invoke, indexed: Path
) -> None:
    unknown = cli("search", "--related", "no such note")
    assert unknown.exit_code == 6
    assert "no indexed note is called 'no such note'" in unknown.stderr
    assert cli("search").exit_code == 2
