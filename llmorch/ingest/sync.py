"""Incremental ingest: bring a collection in line with the files on disk, touching only what changed.

The manifest is read back from the store's own payloads (hash, mtime, size, chunk count per file),
and each batch of files is written delete-then-upsert under deterministic point ids. So a run
killed at any moment leaves whole old or whole new files, or files with missing points that the
next run sees as incomplete and rewrites; there is no separate manifest to fall out of step."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from llmorch.errors import IngestError, RetrievalError
from llmorch.ingest.chunking import chunk_markdown
from llmorch.ingest.markdown import parse_note, with_parent_tags
from llmorch.ingest.note_fields import fields_text
from llmorch.ingest.sources import Scan, SkipFile, SourceFile, decode_text, read_source, scan_source
from llmorch.logging import logger
from llmorch.retrieval import bm25
from llmorch.retrieval.backend import open_store
from llmorch.retrieval.schema import ChunkPayload, ChunkPoint, CollectionMeta, FileRecord
from llmorch.retrieval.store import VectorStore

if TYPE_CHECKING:
    from llmorch.config import IngestSettings, Settings
    from llmorch.retrieval.embedder import DenseEmbedder

BATCH_CHUNKS = 256
"""Chunks embedded and written together: big enough to amortise calls, small enough to lose little."""

Action = Literal["added", "updated", "unchanged", "skipped"]


@dataclass(frozen=True)
class IngestProgress:
    """One file handled; `done` of `total` lets the CLI draw a progress bar and an ETA."""

    total: int
    done: int
    path: str
    action: Action
    chunks_written: int = 0
    chunks_per_s: float | None = None
    """Chunks embedded and written per second so far; None until the first batch is written."""


class FileIssue(BaseModel):
    path: str
    reason: str


class IngestSummary(BaseModel):
    collection: str
    dry_run: bool = False
    added: list[str] = Field(default_factory=list[str])
    updated: list[str] = Field(default_factory=list[str])
    unchanged: int = 0
    deleted: list[str] = Field(default_factory=list[str])
    skipped: list[FileIssue] = Field(default_factory=list[FileIssue])
    warnings: list[FileIssue] = Field(
        default_factory=list[FileIssue], description="Indexed, but with a problem (broken YAML)."
    )
    chunks_written: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


@dataclass(frozen=True)
class _Prepared:
    file: SourceFile
    points: list[ChunkPoint]


async def ingest(
    paths: Sequence[Path],
    settings: Settings,
    *,
    collection: str | None = None,
    full: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[IngestProgress], None] | None = None,
    embedder: DenseEmbedder | None = None,
    store: VectorStore | None = None,
) -> IngestSummary:
    """Index `paths` (default: settings.ingest.paths) into the collection. `full` rebuilds from
    scratch; `dry_run` reports what would change and writes nothing.

    A `store` or `embedder` passed in stays open for the caller; ones made here are closed here."""
    started = time.perf_counter()
    cfg = settings.ingest
    paths = list(paths) or cfg.paths
    if not paths:
        raise IngestError(
            "nothing to ingest: no PATH given and ingest.paths is empty",
            hint="run `llmorch ingest ~/vault` or set ingest.paths in the config file",
        )
    scans = [
        scan_source(p, include=cfg.include, exclude=cfg.exclude, max_file_bytes=cfg.max_file_bytes)
        for p in paths
    ]
    owned = None
    if embedder is None and settings.embedding is not None:
        from llmorch.retrieval.embedder import OpenAIEmbedder

        embedder = owned = OpenAIEmbedder.from_settings(settings.embedding)
    owns_store = store is None
    store = store or open_store(settings, collection, create=not dry_run)
    try:
        summary = IngestSummary(collection=store.collection, dry_run=dry_run)
        manifest, fields = await _prepare_collection(store, embedder, full=full, dry_run=dry_run)
        roots = {Path(root) for root, _ in manifest} | {s.root for s in scans if s.only is None}
        roots |= {p.resolve() for p in cfg.paths}
        scans = [scan.rerooted(roots) for scan in scans]
        run = _Run(store, embedder, cfg, manifest, summary, on_progress, dry_run, fields=fields)
        run.total = sum(len(s.files) for s in scans)
        for scan in scans:
            await run.sync_scan(scan)
        if not dry_run:
            store.flush()
        summary.chunks_total = store.count() if store.exists() else 0
    finally:
        if owns_store:
            store.close()
        if owned is not None:
            await owned.aclose()
    summary.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "ingest into {}: {} added, {} updated, {} unchanged, {} deleted, {} skipped in {} s",
        summary.collection,
        len(summary.added),
        len(summary.updated),
        summary.unchanged,
        len(summary.deleted),
        len(summary.skipped),
        summary.seconds,
    )
    return summary


async def _prepare_collection(
    store: VectorStore, embedder: DenseEmbedder | None, *, full: bool, dry_run: bool
) -> tuple[dict[tuple[str, str], FileRecord], bool]:
    """Create or check the collection; return what it already holds (empty when rebuilding) and
    whether its notes carry the fields vector."""
    model = embedder.model if embedder is not None else None
    if store.exists() and not full:
        meta = store.meta()
        if model is None and meta.hybrid:
            raise RetrievalError(
                f"collection {store.collection!r} holds dense vectors from "
                f"{meta.embedding_model!r} but no embedding endpoint is configured",
                hint="configure `embedding`, or rebuild with `llmorch ingest PATH --full`",
            )
        size = await embedder.dimension() if embedder is not None and meta.hybrid else None
        meta.check_embedder(store.collection, model, size)
        if not meta.fields_vector:
            logger.warning(
                "collection {!r} predates ranking by titles, aliases, tags and headings; "
                "`llmorch ingest PATH --full` rebuilds it with them",
                store.collection,
            )
        return store.manifest(), meta.fields_vector
    if not dry_run:
        size = await embedder.dimension() if embedder is not None else None
        store.create(CollectionMeta(embedding_model=model, dense_size=size, fields_vector=True))
    return {}, True


class _Run:
    """The state of one ingest: what is stored, what was seen, and the batch being built."""

    def __init__(
        self,
        store: VectorStore,
        embedder: DenseEmbedder | None,
        cfg: IngestSettings,
        manifest: dict[tuple[str, str], FileRecord],
        summary: IngestSummary,
        on_progress: Callable[[IngestProgress], None] | None,
        dry_run: bool,
        *,
        fields: bool,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.cfg = cfg
        self.manifest = manifest
        self.summary = summary
        self.on_progress = on_progress
        self.dry_run = dry_run
        self.fields = fields
        self.chunking = f"{cfg.chunk_size}/{cfg.chunk_overlap}"
        self.total = 0
        self.done = 0
        self.batch: list[_Prepared] = []
        self.started = time.perf_counter()

    async def sync_scan(self, scan: Scan) -> None:
        root = str(scan.root)
        for skipped in scan.skipped:
            self.summary.skipped.append(FileIssue(path=skipped.path, reason=skipped.reason))
            logger.info("skipped {}: {}", skipped.path, skipped.reason)
        seen: set[str] = set()
        for file in scan.files:
            # Ctrl-C under asyncio.run cancels this task, which only lands when it yields; a
            # BM25-only run has no I/O to await, so without this it would ignore Ctrl-C to the end.
            await asyncio.sleep(0)
            action = await self._sync_file(file)
            if action != "skipped":
                seen.add(file.rel)
            self._progress(file, action)
        await self._flush_batch()
        stale = sorted(
            rel for (r, rel) in self.manifest if r == root and scan.owns(rel) and rel not in seen
        )
        if stale and not self.dry_run:
            self.store.delete_files(root, stale)
        self.summary.deleted += [str(scan.root / rel) for rel in stale]
        self._drop_copies_from_inner_roots(scan, seen)

    def _drop_copies_from_inner_roots(self, scan: Scan, seen: set[str]) -> None:
        """Notes indexed earlier from a folder inside this root are now indexed from this root:
        drop the old copies (after the new ones are written) so no note is found twice."""
        copies: dict[str, list[str]] = {}
        for r, rel in self.manifest:
            inner = Path(r)
            if (
                scan.root in inner.parents
                and (inner / rel).relative_to(scan.root).as_posix() in seen
            ):
                copies.setdefault(r, []).append(rel)
        for r, rels in copies.items():
            logger.info("{} notes indexed from {} now come from {}", len(rels), r, scan.root)
            if not self.dry_run:
                self.store.delete_files(r, rels)

    async def _sync_file(self, file: SourceFile) -> Action:
        record = self.manifest.get((str(file.root), file.rel))
        # Chunks cut with other chunk settings are rewritten even when the file did not change.
        intact = record is not None and record.complete and record.chunking == self.chunking
        if intact and record and (record.mtime_ns, record.size) == (file.mtime_ns, file.size):
            return self._unchanged()
        try:
            data = read_source(file, self.cfg.max_file_bytes)
            content_hash = hashlib.sha256(data).hexdigest()
            if intact and record and record.content_hash == content_hash:
                if not self.dry_run:
                    self.store.touch_file(str(file.root), file.rel, file.mtime_ns)
                return self._unchanged()
            points = self._points(file, decode_text(data), content_hash)
        except SkipFile as exc:
            self.summary.skipped.append(FileIssue(path=str(file.path), reason=str(exc)))
            logger.info("skipped {}: {}", file.path, exc)
            return "skipped"
        action: Action = "added" if record is None else "updated"
        (self.summary.added if action == "added" else self.summary.updated).append(str(file.path))
        if not self.dry_run:
            self.batch.append(_Prepared(file, points))
            if sum(len(p.points) for p in self.batch) >= BATCH_CHUNKS:
                await self._flush_batch()
        return action

    def _points(self, file: SourceFile, text: str, content_hash: str) -> list[ChunkPoint]:
        note = parse_note(text, fallback_title=Path(file.rel).stem)
        if note.frontmatter_error:
            self.summary.warnings.append(
                FileIssue(path=str(file.path), reason=note.frontmatter_error)
            )
        chunks = chunk_markdown(note.body, size=self.cfg.chunk_size, overlap=self.cfg.chunk_overlap)
        if not chunks:
            raise SkipFile("no text to index (only frontmatter or headings)")
        payloads = [
            ChunkPayload(
                root=str(file.root),
                path=file.rel,
                title=note.title,
                heading=chunk.heading,
                text=chunk.text,
                tags=with_parent_tags(note.tags),
                aliases=note.aliases,
                links=note.links,
                content_hash=content_hash,
                chunk_index=i,
                chunk_count=len(chunks),
                mtime_ns=file.mtime_ns,
                size=file.size,
                chunking=self.chunking,
            )
            for i, chunk in enumerate(chunks)
        ]
        sparse = bm25.embed_documents([indexed_text(p) for p in payloads])
        points = [ChunkPoint(payload=p, sparse=s) for p, s in zip(payloads, sparse, strict=True)]
        if self.fields:
            [named] = bm25.embed_documents([fields_text(payloads)])
            points[0] = replace(points[0], fields=named)
        return points

    async def _flush_batch(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        if self.embedder is not None:
            points = await self._with_dense(self.embedder, batch)
        else:
            points = [p for prepared in batch for p in prepared.points]
        root = str(batch[0].file.root)
        self.store.replace_files(root, [p.file.rel for p in batch], points)
        self.summary.chunks_written += len(points)

    @staticmethod
    async def _with_dense(embedder: DenseEmbedder, batch: list[_Prepared]) -> list[ChunkPoint]:
        """Dense vectors for every chunk and, on each note's first chunk when the index has
        fields vectors, for the note's names too: one embedding call for both."""
        points = [p for prepared in batch for p in prepared.points]
        names = [
            fields_text([p.payload for p in prepared.points])
            for prepared in batch
            if prepared.points[0].fields is not None
        ]
        vectors = await embedder.embed([indexed_text(p.payload) for p in points] + names)
        name_vectors = iter(vectors[len(points) :])
        return [
            replace(p, dense=v, fields_dense=next(name_vectors) if p.fields is not None else None)
            for p, v in zip(points, vectors[: len(points)], strict=True)
        ]

    def _unchanged(self) -> Action:
        self.summary.unchanged += 1
        return "unchanged"

    def _progress(self, file: SourceFile, action: Action) -> None:
        self.done += 1
        logger.debug("{} {}", action, file.path)
        if self.on_progress is not None:
            written = self.summary.chunks_written
            elapsed = time.perf_counter() - self.started
            rate = written / elapsed if written and elapsed > 0 else None
            self.on_progress(
                IngestProgress(self.total, self.done, str(file.path), action, written, rate)
            )


def indexed_text(payload: ChunkPayload) -> str:
    """What BM25 and the embedder see: title and heading give a chunk its context."""
    return "\n".join(part for part in (payload.title, payload.heading, payload.text) if part)
