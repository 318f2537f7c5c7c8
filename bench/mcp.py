"""What MCP costs: search_knowledge_base through `llmorch mcp` over stdio vs the same search in
process on a generated index (20k chunks by default): the added latency p50 and p90 (goal p50
< 5 ms); and start-up of `llmorch mcp`, from spawning it to the first answered tools/list, the
median of several launches (goal < 1 s). The load average is printed beside the figures: on a
busy machine they are noisy.

    .venv/bin/python bench/mcp.py [--chunks 20000] [--queries 200] [--launches 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from retrieval import SECTIONS_PER_NOTE, WORDS, write_corpus  # bench/ is the script's folder
from startup import user_environ

from llmorch.config import load_config
from llmorch.retrieval.hits import SearchRequest
from llmorch.workflows.runtime import Runtime

# This file is bench/mcp.py: with bench/ on the path, `import mcp` would find it, not the SDK.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

LLMORCH = Path(sys.executable).parent / "llmorch"


class Percentiles:
    """p50 and p90 of a list of durations in seconds, in milliseconds."""

    def __init__(self, samples: list[float]) -> None:
        deciles = statistics.quantiles(samples, n=10)
        self.p50 = statistics.median(samples) * 1000
        self.p90 = deciles[8] * 1000


async def in_process(config: Path, queries: list[str]) -> Percentiles:
    settings = load_config(config).settings
    samples: list[float] = []
    async with Runtime(settings) as runtime:
        await runtime.search(SearchRequest(query=queries[0], limit=6))  # open the index
        for q in queries:
            started = time.perf_counter()
            await runtime.search(SearchRequest(query=q, limit=6))
            samples.append(time.perf_counter() - started)
    return Percentiles(samples)


@asynccontextmanager
async def mcp_session(config: Path) -> AsyncIterator[Any]:
    """`llmorch mcp` started as a client starts it, its session initialized."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {**user_environ(), "LLMORCH_CONFIG": str(config)}
    params = StdioServerParameters(command=str(LLMORCH), args=["mcp"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def startup(config: Path, launches: int) -> float:
    """Median ms from spawning `llmorch mcp` to its first answered tools/list."""
    samples: list[float] = []
    for _ in range(launches):
        started = time.perf_counter()
        async with mcp_session(config) as session:
            await session.list_tools()
            samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def over_stdio(config: Path, queries: list[str]) -> Percentiles:
    async with mcp_session(config) as session:
        await session.call_tool("search_knowledge_base", {"query": queries[0]})  # open the index
        samples: list[float] = []
        for q in queries:
            t = time.perf_counter()
            await session.call_tool("search_knowledge_base", {"query": q, "limit": 6})
            samples.append(time.perf_counter() - t)
    return Percentiles(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--launches", type=int, default=5, help="start-ups to take the median of")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_corpus(base / "vault", max(1, args.chunks // SECTIONS_PER_NOTE), rng)
        config = base / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {"ingest": {"paths": [str(base / "vault")]}, "store": {"path": str(base / "q")}}
            ),
            encoding="utf-8",
        )
        env = {**user_environ(), "LLMORCH_CONFIG": str(config)}
        ingest = [str(LLMORCH), "ingest"]
        await asyncio.to_thread(subprocess.run, ingest, env=env, check=True, capture_output=True)
        queries = [" ".join(rng.choice(WORDS) for _ in range(3)) for _ in range(args.queries)]
        local = await in_process(config, queries)
        remote = await over_stdio(config, queries)
        started_ms = await startup(config, args.launches)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"index: ~{args.chunks} chunks, {args.queries} queries; load average {load}")
    print(f"in-process search: p50 {local.p50:.2f} ms, p90 {local.p90:.2f} ms")
    print(f"over `llmorch mcp` (stdio): p50 {remote.p50:.2f} ms, p90 {remote.p90:.2f} ms")
    added_p50, added_p90 = remote.p50 - local.p50, remote.p90 - local.p90
    print(f"added latency: p50 {added_p50:.2f} ms (goal < 5 ms), p90 {added_p90:.2f} ms")
    print(
        f"start-up to first answered tools/list: {started_ms:.0f} ms, median of {args.launches} "
        "(goal < 1000 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
