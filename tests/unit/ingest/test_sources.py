"""Source walking and safe reads, file by file: each bad case is a skip with a reason, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmorch.errors import IngestError, ToolError
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


def _outside_links(vault: Path, outside: Path) -> None:
    """A vault carrying links out: to a system file, a file and a folder next to the vault."""
    (outside / "secret.md").write_text("api_key=hunter2\n")
    (outside / "private").mkdir()
    (outside / "private" / "diary.md").write_text("hunter2\n")
    (vault / "passwd.md").symlink_to("/etc/passwd")
    (vault / "secret.md").symlink_to(outside / "secret.md")
    (vault / "private").symlink_to(outside / "private")


def test_symlinks_out_of_the_folder_are_skipped_with_the_reason(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "note.md").write_text("text")
    _outside_links(vault, tmp_path)
    found = scan(vault)
    assert [f.rel for f in found.files] == ["note.md"]
    reasons = {Path(s.path).name: s.reason for s in found.skipped}
    assert reasons == dict.fromkeys(
        ("passwd.md", "secret.md", "private"), "symlink leads outside the folder"
    )


def test_a_symlink_named_on_its_own_is_judged_in_its_folder(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    _outside_links(vault, tmp_path)
    found = scan(vault / "secret.md")
    assert found.files == []
    assert [s.reason for s in found.skipped] == ["symlink leads outside the folder"]


def test_a_file_named_on_its_own_must_still_match_the_include_globs(tmp_path: Path) -> None:
    (tmp_path / "hostname").write_text("box\n")
    found = scan(tmp_path / "hostname")
    assert found.files == []
    assert "not matched by ingest.include" in found.skipped[0].reason


def test_hidden_folders_and_files_are_never_indexed(tmp_path: Path) -> None:
    for rel in (".config/n.md", ".n.md", "notes/.draft.md", "notes/n.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("text")
    (tmp_path / "link.md").symlink_to(tmp_path / ".config" / "n.md")
    found = scan(tmp_path)
    assert [f.rel for f in found.files] == ["notes/n.md"]
    assert [(Path(s.path).name, s.reason) for s in found.skipped] == [
        ("link.md", "hidden file or folder")
    ]


async def test_ingest_and_read_note_agree_on_every_file(tmp_path: Path) -> None:
    from llmorch.tools.notes import read_note_tool

    vault = tmp_path / "vault"
    vault.mkdir()
    for rel in ("note.md", "notes.txt", ".obsidian/p.md", "sub/n.markdown"):
        (vault / rel).parent.mkdir(parents=True, exist_ok=True)
        (vault / rel).write_text("text")
    (vault / "alias.md").symlink_to(vault / "notes.txt")
    _outside_links(vault, tmp_path)
    indexed = {f.rel for f in scan(vault, ["**/*.md", "**/*.markdown"]).files}
    reader = read_note_tool([vault])
    candidates = [p.relative_to(vault).as_posix() for p in vault.rglob("*")]
    for rel in [*candidates, "private/diary.md"]:
        if (vault / rel).is_dir():
            continue
        try:
            await reader.invoke(reader.validate({"path": rel}))
            readable = True
        except ToolError:
            readable = False
        assert readable == (rel in indexed), rel
    assert indexed == {"note.md", "sub/n.markdown"}
