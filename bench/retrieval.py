"""Retrieval figures: Qdrant Edge (the default store) beside qdrant-client's local mode.

Generates a markdown corpus of N chunks (default 20k), then measures for each backend:
ingest throughput without a dense embedder, BM25-only and hybrid query p50 (hybrid uses
deterministic fake 384-dim dense vectors), shard reopen time, and a re-run over an unchanged
1000-note vault. With `--embedding-url` (e.g. scripts/embedding-server run --port 8081), it also
times a dense ingest of `--dense-chunks` chunks through that real server.
Run: `.venv/bin/python bench/retrieval.py [--chunks 20000] [--queries 200] [--embedding-url URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from llmorch.config import IngestSettings, Settings, StoreSettings
from llmorch.ingest.sync import IngestSummary, ingest
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.hits import SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase
from llmorch.retrieval.server import ServerStore
from llmorch.retrieval.store import VectorStore

SECTIONS_PER_NOTE = 10
DENSE_DIMS = 384
WORDS = [f"w{i}" for i in range(5000)] + [
    "qdrant", "vector", "obsidian", "homelab", "zfs", "backup", "router", "python", "async",
    "kernel", "garden", "recipe", "travel", "budget", "meeting", "decision", "deadline",
]  # fmt: skip


class FakeEmbedder:
    """Deterministic unit vectors seeded by the text, so hybrid queries have a dense arm to fuse."""

    model = "bench-fake-384"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import numpy as np

        out: list[list[float]] = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            vec = np.random.default_rng(seed).standard_normal(DENSE_DIMS)
            out.append((vec / np.linalg.norm(vec)).tolist())
        return out

    async def dimension(self) -> int:
        return DENSE_DIMS


def write_corpus(
    root: Path, notes: int, rng: random.Random, sections: int = SECTIONS_PER_NOTE
) -> None:
    """`notes` notes of `sections` sections, each section about one chunk long."""
    for n in range(notes):
        folder = root / f"area{n % 20:02}"
        folder.mkdir(parents=True, exist_ok=True)
        parts = [f"---\ntags: [t{n % 13}, t{n % 7}]\n---\n# Note {n}\n"]
        for s in range(sections):
            sentence = " ".join(rng.choice(WORDS) for _ in range(90))
            parts.append(f"## Section {s}\n\n{sentence}.\n")
        (folder / f"note-{n:05}.md").write_text("\n".join(parts), encoding="utf-8")


Opener = Callable[[Path, str], VectorStore]


def open_edge(base: Path, collection: str) -> VectorStore:
    return EdgeStore.open(base / "edge", collection)


def open_local(base: Path, collection: str) -> VectorStore:
    from qdrant_client import QdrantClient

    return ServerStore(QdrantClient(path=str(base / "local" / collection)), collection)


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def measure(name: str, opener: Opener, corpus: Path, small: Path, base: Path, queries: int):
    settings = Settings(store=StoreSettings(path=base / "unused"), ingest=IngestSettings())
    figures: dict[str, float] = {}

    summary = await ingest_into(opener(base, "bm25"), corpus, settings)
    figures["ingest chunks/s (no dense)"] = summary.chunks_written / summary.seconds
    chunks = summary.chunks_written

    started = time.perf_counter()
    store = opener(base, "bm25")
    store.count()  # forces the shard (edge) to load; local mode loads everything on open
    figures["reopen s"] = time.perf_counter() - started
    kb = KnowledgeBase(settings, store)
    figures["bm25 query p50 ms"] = await query_p50(kb, queries)
    kb.close()

    fake = FakeEmbedder()
    await ingest_into(opener(base, "hybrid"), corpus, settings, embedder=fake)
    kb = KnowledgeBase(settings, opener(base, "hybrid"), embedder=fake)
    figures["hybrid query p50 ms"] = await query_p50(kb, queries)
    kb.close()

    await ingest_into(opener(base, "small"), small, settings)
    started = time.perf_counter()  # opening counts: local mode loads every point when it opens
    rerun = await ingest_into(opener(base, "small"), small, settings)
    assert not rerun.changed, rerun
    figures["unchanged 1000-note re-run s"] = time.perf_counter() - started
    print(f"  {name}: {chunks} chunks indexed", flush=True)
    return figures


async def ingest_into(
    store: VectorStore, source: Path, settings: Settings, embedder: FakeEmbedder | None = None
) -> IngestSummary:
    try:
        return await ingest([source], settings, store=store, embedder=embedder)
    finally:
        store.close()


async def query_p50(kb: KnowledgeBase, queries: int) -> float:
    rng = random.Random(7)
    await kb.search(SearchRequest(query="warm up"))
    samples: list[float] = []
    for i in range(queries):
        text = " ".join(rng.choice(WORDS) for _ in range(4))
        request = SearchRequest(query=text, limit=8, tags=["t3"] if i % 4 == 0 else [])
        started = time.perf_counter()
        await kb.search(request)
        samples.append(time.perf_counter() - started)
    return p50_ms(samples)


async def dense_ingest_rate(base: Path, url: str, chunks: int, rng: random.Random) -> float:
    """Chunks/s of a whole ingest with vectors from a real embedding server."""
    from llmorch.config import EmbeddingSettings

    corpus = base / "dense-corpus"
    write_corpus(corpus, max(1, chunks // SECTIONS_PER_NOTE), rng)
    settings = Settings(
        embedding=EmbeddingSettings(base_url=url, model="bench-embedder"),
        store=StoreSettings(path=base / "dense-edge"),
        ingest=IngestSettings(),
    )
    summary = await ingest([corpus], settings)
    return summary.chunks_written / summary.seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000, help="corpus size in chunks")
    parser.add_argument("--queries", type=int, default=200, help="queries per p50 on edge")
    parser.add_argument("--local-queries", type=int, default=30, help="queries per p50 on local")
    parser.add_argument("--skip-local", action="store_true", help="only measure Qdrant Edge")
    parser.add_argument(
        "--embedding-url", help="a real /v1 embedding endpoint to time dense ingest"
    )
    parser.add_argument("--dense-chunks", type=int, default=500)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="llmorch-bench-"))
    try:
        rng = random.Random(42)
        corpus, small = base / "corpus", base / "small"
        write_corpus(corpus, max(1, args.chunks // SECTIONS_PER_NOTE), rng)
        write_corpus(small, 1000, rng, sections=3)
        print(f"corpus: ~{args.chunks} chunks; re-run vault: 1000 notes ({base})", flush=True)
        edge = await measure("edge", open_edge, corpus, small, base, args.queries)
        local = None
        if not args.skip_local:
            local = await measure("local", open_local, corpus, small, base, args.local_queries)
        dense_rate = None
        if args.embedding_url:
            dense_rate = await dense_ingest_rate(base, args.embedding_url, args.dense_chunks, rng)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"\n{'figure':32} {'edge':>12} {'local mode':>12} {'edge better by':>15}")
    for key, value in edge.items():
        other = local[key] if local else float("nan")
        # Throughput: higher is better; every other figure is a duration.
        ratio = value / other if key.startswith("ingest") else other / value
        print(f"{key:32} {value:12.3f} {other:12.3f} {ratio:14.1f}x")
    if dense_rate is not None:
        print(f"\ndense ingest through {args.embedding_url}: {dense_rate:.1f} chunks/s")
    goals = {
        "hybrid query p50 ms": edge["hybrid query p50 ms"] < 10,
        "ingest >= 1000 chunks/s": edge["ingest chunks/s (no dense)"] >= 1000,
        "unchanged re-run < 2 s": edge["unchanged 1000-note re-run s"] < 2,
    }
    print(
        "\ngoals on edge: "
        + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in goals.items())
    )


if __name__ == "__main__":
    asyncio.run(main())
