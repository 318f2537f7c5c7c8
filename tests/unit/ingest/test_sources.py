"""Source walking and safe reads, file by file: each bad case is a skip with a reason, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmorch.errors import IngestError
from llmorch.ingest.sources import SkipFile, decode_text, read_source, scan_source


def scan(root: Path, include: list[str] | None = None, exclude: list[str] | None = None):
    return scan_source(
        root, include=include or ["**/*.md"], exclude=exclude or [], max_file_bytes=1000
    )


def test_include_and_exclude_globs_pick_the_files(tmp_path: Path) -> None:
    for rel in ["a.md", "b.markdown", "c.txt", "x/d.md", "drafts/e.md", "x/f.tmp.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("text")
    found = scan(tmp_path, ["**/*.md", "*.markdown"], ["drafts/", "*.tmp.md"])
    assert sorted(f.rel for f in found.files) == ["a.md", "b.markdown", "x/d.md"]
    assert found.skipped == []


def test_obsidian_git_and_trash_folders_are_always_skipped(tmp_path: Path) -> None:
    for folder in (".obsidian", ".git", ".trash", "notes"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "n.md").write_text("text")
    assert [f.rel for f in scan(tmp_path).files] == ["notes/n.md"]


def test_folder_symlink_loops_are_reported_once_and_not_followed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "n.md").write_text("text")
    (tmp_path / "a" / "back").symlink_to(tmp_path)
    (tmp_path / "alias").symlink_to(tmp_path / "a")
    found = scan(tmp_path)
    assert [f.rel for f in found.files] == ["a/n.md"]
    assert sorted(Path(s.path).name for s in found.skipped) == ["alias", "back"]
    assert all("symlink loop" in s.reason for s in found.skipped)


def test_a_self_referencing_file_symlink_is_skipped_as_a_loop(tmp_path: Path) -> None:
    (tmp_path / "self.md").symlink_to(tmp_path / "self.md")
    found = scan(tmp_path)
    assert [(Path(s.path).name, s.reason) for s in found.skipped] == [("self.md", "symlink loop")]


def test_large_and_empty_files_are_skipped_from_stat_alone(tmp_path: Path) -> None:
    (tmp_path / "big.md").write_text("x" * 1001)
    (tmp_path / "empty.md").write_text("")
    reasons = {Path(s.path).name: s.reason for s in scan(tmp_path).skipped}
    assert "max_file_bytes" in reasons["big.md"]
    assert reasons["empty.md"] == "empty file"


def test_a_single_file_source_owns_only_itself(tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text("text")
    found = scan(tmp_path / "one.md")
    assert [f.rel for f in found.files] == ["one.md"]
    assert found.owns("one.md") and not found.owns("other.md")


def test_a_missing_source_is_an_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError):
        scan(tmp_path / "missing")


def test_binary_and_invalid_utf8_are_skip_reasons(tmp_path: Path) -> None:
    (tmp_path / "bin.md").write_bytes(b"abc\x00def")
    (tmp_path / "bad.md").write_bytes(b"ok \xff\xfe not utf8")
    files = {f.rel: f for f in scan(tmp_path).files}
    with pytest.raises(SkipFile, match="binary"):
        read_source(files["bin.md"], 1000)
    with pytest.raises(SkipFile, match=r"not valid UTF-8 \(byte 3\)"):
        decode_text(read_source(files["bad.md"], 1000))


def test_a_utf8_bom_is_dropped(tmp_path: Path) -> None:
    assert decode_text("\ufeff# Title".encode()) == "# Title"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_permission_denied_is_a_skip_reason(tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("text")
    (tmp_path / "secret.md").chmod(0)
    found = scan(tmp_path)
    with pytest.raises(SkipFile, match="permission denied"):
        read_source(found.files[0], 1000)
