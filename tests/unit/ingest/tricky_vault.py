"""A generated Obsidian vault with the tricky cases ingest must survive, and settings pointing at a
store in tmp_path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmorch.config import IngestSettings, Settings, StoreSettings

MAX_FILE_BYTES = 20_000

GOOD_NOTES = {
    "Home.md": """---
title: Vault home
tags: [index, "#meta"]
aliases: [Start, Start Page]
---
# Ignored H1 because frontmatter has a title

Welcome. See [[Projects/Homelab|my homelab]] and [[Recipes]]. #daily
""",
    "Projects/Homelab.md": """# Homelab

The NAS runs ZFS with weekly scrubs. #infra/storage

## Network

The router hands out addresses from 10.0.0.0/24.

```bash
# not a heading, and #notatag
ip addr show
```
""",
    "Recipes.md": "Pancakes need flour, eggs and milk.\n\nNo headings and no frontmatter here.\n",
    "sub folder/Broken YAML.md": """---
tags: [unclosed
---
# Still indexed

The body of a note with broken frontmatter is still searchable: zeppelin.
""",
    "deep/er/target.md": "A note two folders down about a quokka.\n",
}


@dataclass
class Vault:
    root: Path
    good: list[str]
    bad: dict[str, str]
    """Relative path -> a word the skip reason must contain."""
    ignored: list[str]


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    root = tmp_path / "vault"
    for rel, text in GOOD_NOTES.items():
        write(root / rel, text)
    bad = {
        "binary.md": "binary",
        "latin1.md": "UTF-8",
        "empty.md": "empty",
        "blank.md": "empty",
        "huge.md": "max_file_bytes",
        "only-frontmatter.md": "no text",
        "dangling.md": "broken symlink",
    }
    write(root / "binary.md", b"PK\x03\x04\x00\x00binary zip pretending to be markdown")
    write(root / "latin1.md", "caf\xe9 au lait".encode("latin-1"))
    write(root / "empty.md", "")
    write(root / "blank.md", "  \n\n \n")
    write(root / "huge.md", "word " * (MAX_FILE_BYTES // 4))
    write(root / "only-frontmatter.md", "---\ntags: [x]\n---\n")
    (root / "dangling.md").symlink_to(root / "does-not-exist.md")
    (root / "loop").symlink_to(root)  # a folder symlink back to the vault root
    bad["loop"] = "symlink loop"
    ignored = [
        ".obsidian/workspace.md",
        ".git/notes.md",
        ".trash/old.md",
        "drafts/wip.md",
        "picture.png",
    ]
    for rel in ignored:
        write(root / rel, "ignored content about zeppelin")
    return Vault(root=root, good=sorted(GOOD_NOTES), bad=bad, ignored=ignored)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store=StoreSettings(path=tmp_path / "qdrant"),
        ingest=IngestSettings(
            exclude=["drafts/"], max_file_bytes=MAX_FILE_BYTES, chunk_size=200, chunk_overlap=40
        ),
    )


def bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
