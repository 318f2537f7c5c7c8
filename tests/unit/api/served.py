"""`llmorch serve` as a real process on a free 127.0.0.1 port, over an indexed vault: what every
server test starts from. Requests go over real HTTP with urllib."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LLMORCH = Path(sys.executable).parent / "llmorch"
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Reply:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def post_json(self, path: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request(
            "POST",
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def write_config(tmp_path: Path, vault: Path, llm_base_url: str, **server: Any) -> Path:
    config = tmp_path / "config.yaml"
    settings = {
        "llm": {"base_url": llm_base_url, "model": "m", "max_retries": 0, "timeout_s": 30},
        "store": {"path": str(tmp_path / "qdrant")},
        "ingest": {"paths": [str(vault)]},
        "server": {"port": free_port(), **server},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


def ingest(env: dict[str, str]) -> None:
    done = subprocess.run([str(LLMORCH), "ingest"], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()


@contextmanager
def serving(config: Path, *args: str) -> Iterator[Served]:
    env = {**os.environ, "LLMORCH_CONFIG": str(config)}
    port = yaml.safe_load(config.read_text())["server"]["port"]
    log = config.with_name("serve.log")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(LLMORCH), "serve", *args], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", process, env, log)
    try:
        _wait_for_health(served)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@contextmanager
def serving_indexed(config: Path) -> Iterator[Served]:
    """`serving` over a vault ingested once the server is up (as a user would run them)."""
    with serving(config) as server:
        ingest(server.env)
        yield server


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _wait_for_health(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited with {served.process.returncode}: {_tail(served)}")
        try:
            if served.request("GET", "/health", timeout=2).status == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError(f"serve not healthy after {START_TIMEOUT_S} s: {_tail(served)}")


def _tail(served: Served) -> str:
    return served.log.read_text(errors="replace")[-800:]
