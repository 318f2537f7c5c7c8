"""Real OpenAI-compatible servers for integration tests: llama-cpp-python serving SmolLM2-135M
(chat) and all-MiniLM-L6-v2 (embeddings).

`llama_server` (session-scoped) sets it up with scripts/llama-server, starts it on a free port on
127.0.0.1 and waits until /v1/models answers; `embedding_server` does the same with
scripts/embedding-server, and `start_embedding_server` gives a test a server of its own to kill. Tests are skipped, with the reason, only when the
server cannot be set up (no compiler, no registry access); a server that is set up but fails to
start is a test failure.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmorch.config import EmbeddingSettings, LlmSettings

REPO = Path(__file__).resolve().parents[2]
SETUP_TIMEOUT_S = 1200  # a first run builds llama-cpp-python (~5 min on 2 cores)
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    model: str
    log: Path

    def settings(self, **overrides: Any) -> LlmSettings:
        """LlmSettings pointing at this server; small models answer fast at temperature 0."""
        values: dict[str, Any] = {
            "base_url": self.base_url,
            "model": self.model,
            "temperature": 0.0,
            "timeout_s": 120.0,
            "max_retries": 0,
            **overrides,
        }
        return LlmSettings(**values)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _set_up(script: str = "llama-server") -> tuple[str, str]:
    try:
        done = subprocess.run(
            [str(REPO / "scripts" / script), "setup"],
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"llama.cpp server could not be set up: {exc}")
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        pytest.skip(f"llama.cpp server could not be set up (scripts/{script} setup): {tail}")
    python, model = done.stdout.strip().splitlines()[-2:]
    return python, model


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"llama.cpp server exited with {process.returncode}: {log.read_text()[-800:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    pytest.fail(f"llama.cpp server not ready after {START_TIMEOUT_S}s: {log.read_text()[-800:]}")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The running server: base URL (ending in /v1) and the model name it serves."""
    python, model = _set_up()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        python, "-m", "llama_cpp.server",
        "--model", model,
        "--chat_format", "chatml-function-calling",
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(base_url, process, log)
        yield LlamaServer(base_url=base_url, model=model, log=log)
    finally:
        _stop(process)


EMBEDDING_MODEL = "all-MiniLM-L6-v2"


@dataclass
class EmbeddingServer:
    """A running embedding server; `kill()` is SIGKILL, as when a server crashes."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    model: str = EMBEDDING_MODEL

    def settings(self, **overrides: Any) -> EmbeddingSettings:
        return EmbeddingSettings(base_url=self.base_url, model=self.model, **overrides)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


EmbeddingServerFactory = Callable[[], EmbeddingServer]


@pytest.fixture(scope="session")
def _embedding_setup() -> tuple[str, str]:
    return _set_up("embedding-server")


def _launch_embedding_server(python: str, model: str, log: Path) -> EmbeddingServer:
    port = _free_port()
    command = [
        python, "-m", "llama_cpp.server",
        "--model", model,
        "--model_alias", EMBEDDING_MODEL,
        "--embedding", "true",
        "--n_ctx", "512", "--n_batch", "512",
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    server = EmbeddingServer(f"http://127.0.0.1:{port}/v1", process, log)
    try:
        _wait_until_ready(server.base_url, process, log)
    except BaseException:
        _stop(server.process)
        raise
    return server


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def start_embedding_server(
    _embedding_setup: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddingServerFactory]:
    """Starts embedding servers on free ports; every one still running is stopped afterwards."""
    started: list[EmbeddingServer] = []

    def start() -> EmbeddingServer:
        log = tmp_path_factory.mktemp("embedding-server") / "server.log"
        started.append(_launch_embedding_server(*_embedding_setup, log))
        return started[-1]

    yield start
    for server in started:
        _stop(server.process)


@pytest.fixture(scope="session")
def embedding_server(
    _embedding_setup: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddingServer]:
    """One embedding server shared by the session's tests that do not stop it."""
    log = tmp_path_factory.mktemp("embedding-server") / "server.log"
    server = _launch_embedding_server(*_embedding_setup, log)
    try:
        yield server
    finally:
        _stop(server.process)
