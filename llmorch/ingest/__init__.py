"""Indexing notes: files to notes to chunks to vectors, incrementally, by one rule of what a note is."""

from typing import TYPE_CHECKING

from llmorch.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llmorch.ingest.note_rule import NoteRule
    from llmorch.ingest.sync import FileIssue, IngestProgress, IngestSummary, ingest

__all__ = ["FileIssue", "IngestProgress", "IngestSummary", "NoteRule", "ingest"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "note_rule": ["NoteRule"],
        "sync": ["FileIssue", "IngestProgress", "IngestSummary", "ingest"],
    },
)
