"""The text of a note's fields vector: what names the note, each name once."""

from __future__ import annotations

from llmorch.ingest.note_fields import fields_text
from llmorch.retrieval.schema import ChunkPayload


def chunk(heading: str, index: int) -> ChunkPayload:
    return ChunkPayload(
        root="/vault",
        path="homelab/zfs-backup.md",
        title="ZFS backup",
        heading=heading,
        text="body text never goes in",
        tags=["homelab/storage", "homelab"],
        aliases=["Snapshots"],
        content_hash="h",
        chunk_index=index,
        chunk_count=3,
        mtime_ns=0,
        size=1,
    )


def test_fields_hold_title_aliases_tags_path_and_every_heading_once() -> None:
    text = fields_text([chunk("Setup > Pool", 0), chunk("Setup > Schedule", 1), chunk("", 2)])
    assert text.splitlines() == [
        "ZFS backup",
        "Snapshots",
        "homelab/storage",
        "homelab",
        "homelab/zfs-backup",
        "Setup",
        "Pool",
        "Schedule",
    ]
    assert "body" not in text
