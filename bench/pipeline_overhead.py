"""How much a Pipeline costs over plain awaits, and how fast `llmorch --version` starts.

Run: .venv/bin/python bench/pipeline_overhead.py [--runs 2000]
Goals: under 1 ms overhead per step at p50; `llmorch --version` under 100 ms (median).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from time import perf_counter

from loguru import logger

from llmorch.pipeline import Pipeline, Step

STEPS = 10
ROOT = Path(__file__).resolve().parent.parent


async def noop(inp: int, ctx: object) -> int:
    return inp


def build_pipeline() -> Pipeline[int, int, object]:
    steps = [Step(noop, name=f"noop{i}") for i in range(STEPS)]
    pipeline = Pipeline.create(steps[0], name="bench")
    for s in steps[1:]:
        pipeline = pipeline.pipe(s)
    return pipeline


async def direct(value: int) -> int:
    for _ in range(STEPS):
        value = await noop(value, None)
    return value


async def sample_us(run: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    for _ in range(min(200, runs)):  # warm up caches and the allocator
        await run()
    samples: list[float] = []
    for _ in range(runs):
        start = perf_counter()
        await run()
        samples.append((perf_counter() - start) * 1e6)
    return samples


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[round(q) - 1]


async def report_overhead(label: str, runs: int) -> None:
    pipeline = build_pipeline()
    baseline = await sample_us(lambda: direct(1), runs)
    piped = await sample_us(lambda: pipeline.execute(1, None), runs)
    print(f"\n{label} ({runs} runs of {STEPS} no-op steps)")
    print(f"  {'':<24}{'p50 us':>10}{'p95 us':>10}")
    for name, samples in (("direct awaits", baseline), ("pipeline.execute", piped)):
        print(f"  {name:<24}{percentile(samples, 50):>10.1f}{percentile(samples, 95):>10.1f}")
    for q in (50, 95):
        overhead = percentile(piped, q) - percentile(baseline, q)
        print(f"  overhead p{q}: {overhead:8.1f} us per run, {overhead / STEPS:7.1f} us per step")


def report_startup(repeats: int = 10) -> None:
    if not (ROOT / "llmorch" / "cli" / "app.py").exists():
        print("\nllmorch --version: skipped (llmorch/cli/app.py does not exist yet)")
        return
    exe = shutil.which("llmorch", path=str(Path(sys.executable).parent))
    command = [exe, "--version"] if exe else [sys.executable, "-m", "llmorch", "--version"]
    times_ms: list[float] = []
    for _ in range(repeats):
        start = perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        times_ms.append((perf_counter() - start) * 1000)
        if proc.returncode != 0:
            print(f"\nllmorch --version: failed ({proc.returncode}): {proc.stderr.strip()[:200]}")
            return
    median, fastest = statistics.median(times_ms), min(times_ms)
    print(f"\nllmorch --version as a subprocess ({repeats} runs)")
    print(f"  median {median:.1f} ms, min {fastest:.1f} ms")


async def main(runs: int) -> None:
    logger.remove()
    await report_overhead("no loguru sink", runs)
    # As the CLI does: a library's records are off until the application enables them.
    logger.enable("llmorch")
    logger.add(io.StringIO(), level="WARNING")
    await report_overhead("sink at WARNING (the CLI default; DEBUG calls filtered)", runs)
    logger.remove()
    logger.add(io.StringIO(), level="DEBUG")
    await report_overhead("sink at DEBUG (every start/complete record formatted)", runs)
    logger.remove()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.runs))
    report_startup()
