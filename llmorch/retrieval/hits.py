"""What a search asks and what it returns: the contract between retrieval, tools, workflows and CLI."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, Field, field_validator


class SearchRequest(BaseModel):
    query: str = Field(min_length=1)
    limit: int = Field(default=6, ge=1, le=100)
    tags: list[str] = Field(default_factory=list[str])
    tag_mode: Literal["any", "all"] = "any"
    path_prefix: str | None = Field(
        default=None, description="Only notes under this folder of the vault (`projects/`)."
    )
    score_threshold: float | None = None
    collection: str | None = Field(default=None, description="Unset means the configured one.")
    linked_notes: int | None = Field(
        default=None,
        ge=0,
        le=10,
        description="Also return, for up to this many notes linked to or from the hits, the "
        "chunk that best matches the query; unset means retrieval.linked_notes.",
    )
    arms: Literal["auto", "keyword", "semantic"] = Field(
        default="auto",
        description="auto: BM25, fused with dense vectors when the index has them; keyword: BM25 "
        "only; semantic: dense only (needs an embedder).",
    )

    @field_validator("tags")
    @classmethod
    def _as_stored(cls, tags: list[str]) -> list[str]:
        """Ingest stores tags lowercased without '#' (Obsidian ignores tag case); ask the same way."""
        return [t for t in (tag.strip().lstrip("#").lower() for tag in tags) if t]

    @field_validator("path_prefix")
    @classmethod
    def _as_folder(cls, path: str | None) -> str | None:
        """A folder, whichever way it is written (`projects`, `./projects/`): stores match it as a
        prefix, so it ends in `/` and `projects` never matches `projects-old/`."""
        folder = (path or "").strip().removeprefix("./").strip("/")
        return f"{folder}/" if folder else None


class SearchHit(BaseModel):
    """One matching chunk, with everything a citation needs."""

    path: str
    title: str
    heading: str = Field(description="Heading path inside the note, e.g. 'Setup > Install'.")
    root: str = Field(
        default="", description="Folder the note was ingested from: tells apart equal paths."
    )
    snippet: str
    text: str
    score: float
    tags: list[str] = Field(default_factory=list[str])
    chunk_index: int = 0

    def citation(self) -> str:
        return f"{self.path}#{self.heading}" if self.heading else self.path


class KnowledgeSearch(Protocol):
    """Anything that answers a SearchRequest; the retrieval layer provides the real one."""

    async def search(self, request: SearchRequest) -> list[SearchHit]: ...
