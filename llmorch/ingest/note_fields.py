"""What names a note, as one text for the fields vector: a question often names a note's subject
in words its title, aliases, tags, file name or headings use and its body does not."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from llmorch.retrieval.schema import ChunkPayload


def fields_text(chunks: Sequence[ChunkPayload]) -> str:
    """Title, aliases, tags, the path's words and every heading of the note, each once."""
    first = chunks[0]
    headings = (part for chunk in chunks for part in chunk.heading.split(" > ") if part)
    names = [
        first.title,
        *first.aliases,
        *first.tags,
        PurePosixPath(first.path).with_suffix("").as_posix(),
        *headings,
    ]
    return "\n".join(dict.fromkeys(name for name in names if name))
