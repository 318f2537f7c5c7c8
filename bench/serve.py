"""`llmorch serve` under load, only on 127.0.0.1 and bounded in count and time.

    .venv/bin/python bench/serve.py [--chunks 20000] [--requests 4000] [--concurrency 16]

Prints for `POST /api/search` on a `--chunks` BM25 index at `--concurrency`: requests/s, p50, p99
and errors (goal >= 300 req/s, p99 < 100 ms, no errors); for `POST /v1/chat/completions`
(`llmorch-qa`) against a model server that answers at once: the latency llmorch adds over calling
that model server directly (goal p50 < 5 ms); and the server's RSS after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx2
import yaml
from loop_overhead import InstantModelHandler
from startup import build_index

LLMORCH = Path(sys.executable).parent / "llmorch"
TIME_LIMIT_S = 60.0  # each phase stops here even if requests remain
QUESTION = {"messages": [{"role": "user", "content": "backup schedule for the nas?"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(
    call: Callable[[], Awaitable[int]], requests: int, concurrency: int
) -> tuple[list[float], int, float]:
    """Latencies (ms), error count and wall seconds for `requests` calls, `concurrency` at once."""
    latencies: list[float] = []
    errors = 0
    remaining = requests
    deadline = time.monotonic() + TIME_LIMIT_S

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.monotonic() < deadline:
            remaining -= 1
            started = time.perf_counter()
            status = await call()
            latencies.append((time.perf_counter() - started) * 1000)
            errors += status != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


def start_model_server() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), InstantModelHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def start_llmorch(home: Path, model_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = home / "config.yaml"
    settings = {
        "llm": {"base_url": model_url, "model": "bench-model", "max_retries": 0},
        "store": {"path": str(home / "index")},
        "server": {"port": port, "max_in_flight": 64},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    # The bench's run records go to its temporary home, not the user's.
    env = {**os.environ, "LLMORCH_CONFIG": str(config), "XDG_STATE_HOME": str(home / "state")}
    process = subprocess.Popen([str(LLMORCH), "serve"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(url + "/health").status_code == 200:
                return process, url
        except httpx2.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("llmorch serve did not start")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used: per request, a figure that other load on
    a shared machine disturbs far less than latency or throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def bench(url: str, model_url: str, pid: int, args: argparse.Namespace) -> None:
    limits = httpx2.Limits(max_connections=args.concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=30) as client:

        async def search() -> int:
            body = {"query": "backup restic nas schedule", "limit": 6}
            return (await client.post(url + "/api/search", json=body)).status_code

        await load(search, 100, args.concurrency)  # warm the index and the connections
        cpu_before = cpu_s(pid)
        latencies, errors, wall = await load(search, args.requests, args.concurrency)
        cpu_ms = (cpu_s(pid) - cpu_before) * 1000 / len(latencies)
        print(
            f"/api/search, {args.chunks} chunks, concurrency {args.concurrency}: "
            f"{len(latencies) / wall:.0f} req/s, p50 {statistics.median(latencies):.1f} ms, "
            f"p99 {percentile(latencies, 0.99):.1f} ms, errors {errors} of {len(latencies)} "
            f"(goal >= 300 req/s, p99 < 100 ms, 0 errors); server CPU {cpu_ms:.2f} ms/request"
        )

        async def direct() -> int:
            body = {"model": "bench-model", **QUESTION}
            return (await client.post(model_url + "/chat/completions", json=body)).status_code

        async def through_llmorch() -> int:
            body = {"model": "llmorch-qa", **QUESTION}
            return (await client.post(url + "/v1/chat/completions", json=body)).status_code

        await load(through_llmorch, 20, 1)
        rounds = args.chat_rounds
        direct_ms, direct_errors, _ = await load(direct, rounds, 1)
        cpu_before = cpu_s(pid)
        served_ms, served_errors, _ = await load(through_llmorch, rounds, 1)
        cpu_ms = (cpu_s(pid) - cpu_before) * 1000 / len(served_ms)
        added = statistics.median(served_ms) - statistics.median(direct_ms)
        print(
            f"/v1/chat/completions ({rounds} sequential, instant model): model server direct "
            f"p50 {statistics.median(direct_ms):.2f} ms, through llmorch (retrieval included) "
            f"p50 {statistics.median(served_ms):.2f} ms: added {added:.2f} ms "
            f"(goal < 5 ms); errors {direct_errors + served_errors}; server CPU {cpu_ms:.2f} ms/request"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chat-rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        print(f"building a {args.chunks}-chunk index ...", file=sys.stderr)
        build_index(home / "index", args.chunks)
        model_url = start_model_server()
        process, url = start_llmorch(home, model_url)
        try:
            asyncio.run(bench(url, model_url, process.pid, args))
            print(f"server RSS after the run: {rss_mib(process.pid):.0f} MiB")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
