"""Start-up cost of `llmorch`, each command timed as a whole process, beside Simon Willison's `llm`
CLI (a well-known Python CLI of the same kind) measured in the same run.

    .venv/bin/python bench/startup.py [--runs 15] [--chunks 20000]

`llm` is installed into its own venv under ~/.cache/llmorch/bench-llm the first time (pip install
llm); if that cannot be done, its lines say why and the ratios are skipped. `search` runs over an
edge index of `--chunks` BM25 chunks, built in a temporary folder with the retrieval API. `ask`
and `llm -m MODEL` ask the same question of one instant local model server (the scripted
OpenAI-compatible server of the CLI tests, which answers at once), so what is timed is each
tool's own start-up and round trips; `ask` also searches the index. The model is named in both
configs, as `llm -m` names it. Run records (llmorch) and logs.db (llm) stay on, as users have them.

Two floors are timed beside them, as whole processes of this venv's Python: defining one pydantic
model (the config and every record are pydantic models), and the OpenAI SDK streaming one answer
from the same server (what any SDK-based tool pays before doing anything of its own).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

# The scripted OpenAI-compatible server of the CLI tests: an "instant" model server.
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "unit" / "cli"))
from scripted_llm import MODEL as SCRIPTED_MODEL
from scripted_llm import ScriptedLlm

from llmorch.retrieval import bm25
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.schema import ChunkPayload, ChunkPoint, CollectionMeta

LLMORCH = Path(sys.executable).parent / "llmorch"
LLM_VENV = Path.home() / ".cache" / "llmorch" / "bench-llm"
CHUNKS_PER_NOTE = 10
WRITE_BATCH = 2000

GOAL_VERSION_MS = 100.0
GOAL_VERSION_RATIO = 3.0
GOAL_SEARCH_MS = 200.0
GOAL_ASK_RATIO = 0.9
QUESTION = "when do the restic backups run?"
GOAL_WORKFLOWS_LIST_MS = 250.0
USER_WORKFLOW_FILES = 3

# The example a user would start from, copied under three names.
EXAMPLE_WORKFLOW = Path(__file__).parents[1] / "examples" / "workflows" / "weekly_review.py"

_VOCABULARY = (
    "backup restic snapshot nas schedule retention garden tomato water tuesday network vlan "
    "router firewall dns model qwen llama context prompt token vault obsidian note link tag "
    "heading chunk index query search vector sparse dense fusion server client python rust "
    "nixos module service timer systemd journal disk zfs pool scrub replica power ups battery"
)
_WORDS = _VOCABULARY.split()


def build_index(directory: Path, chunks: int) -> None:
    """`chunks` chunks of generated prose, written the way ingest writes them (BM25 + payload)."""
    rng = random.Random(7)
    store = EdgeStore.open(directory, "notes")
    try:
        store.create(CollectionMeta())
        points: list[ChunkPoint] = []
        for i in range(chunks):
            note, index = divmod(i, CHUNKS_PER_NOTE)
            text = " ".join(rng.choice(_WORDS) for _ in range(120))
            payload = ChunkPayload(
                root="/bench",
                path=f"notes/note-{note:05d}.md",
                title=f"Note {note}",
                heading=f"Section {index}",
                text=text,
                tags=[rng.choice(_WORDS)],
                content_hash=f"{note:064x}",
                chunk_index=index,
                chunk_count=CHUNKS_PER_NOTE,
                mtime_ns=0,
                size=len(text),
            )
            points.append(ChunkPoint(payload=payload, sparse=bm25.embed_documents([text])[0]))
            if len(points) >= WRITE_BATCH:
                store.replace_files("/bench", [], points)
                points.clear()
        store.replace_files("/bench", [], points)
        store.flush()
    finally:
        store.close()


PYDANTIC_FLOOR = "from pydantic import BaseModel\nclass Probe(BaseModel):\n    x: int = 1\n"
SDK_FLOOR = """import sys, openai
client = openai.OpenAI(base_url=sys.argv[1], api_key="none")
messages = [{"role": "user", "content": sys.argv[2]}]
for _ in client.chat.completions.create(model=sys.argv[3], messages=messages, stream=True):
    pass
"""


def user_environ() -> dict[str, str]:
    """This environment as a user's shell has it: Python writes bytecode caches. A sandbox that
    sets PYTHONDONTWRITEBYTECODE makes every run recompile llmorch's own modules (50-100 ms),
    which no installed llmorch pays after its first run."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def ensure_llm() -> tuple[Path | None, str]:
    """The `llm` executable from its own venv, installing it once; or None and why not."""
    exe = LLM_VENV / "bin" / "llm"
    if exe.exists():
        return exe, "cached"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(LLM_VENV)], check=True)
        subprocess.run(
            [str(LLM_VENV / "bin" / "pip"), "install", "--quiet", "llm"],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] or [str(exc)]
        return None, f"could not install llm: {tail[0]}"
    return exe, "installed"


def llm_user_dir(root: Path, base_url: str) -> Path:
    """An `llm` config naming the instant server as an OpenAI-compatible model called "bench"."""
    directory = root / "llm"
    directory.mkdir()
    models = [{"model_id": "bench", "model_name": SCRIPTED_MODEL, "api_base": base_url}]
    (directory / "extra-openai-models.yaml").write_text(yaml.safe_dump(models), "utf-8")
    return directory


def time_command(argv: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall milliseconds per run, after one untimed warm-up run (so the OS file cache is warm)."""
    subprocess.run(argv, env=env, capture_output=True, check=True)
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--chunks", type=int, default=20_000)
    args = parser.parse_args()

    llm_exe, llm_note = ensure_llm()
    # Served from a thread of this process, which only waits on the timed commands meanwhile.
    with tempfile.TemporaryDirectory(prefix="llmorch-bench-") as tmp, ScriptedLlm() as server:
        root = Path(tmp)
        url = server.base_url
        started = time.perf_counter()
        build_index(root / "qdrant", args.chunks)
        print(f"index: {args.chunks} chunks built in {time.perf_counter() - started:.1f} s")
        config = root / "config.yaml"
        flows = root / "workflows"
        flows.mkdir()
        for n in range(USER_WORKFLOW_FILES):
            text = EXAMPLE_WORKFLOW.read_text().replace('"weekly_review"', f'"review{n}"')
            (flows / f"review{n}.py").write_text(text)
        settings = {
            "store": {"path": str(root / "qdrant")},
            "workflows": {"paths": [str(flows)]},
            "llm": {"base_url": url, "model": SCRIPTED_MODEL},
        }
        config.write_text(yaml.safe_dump(settings), "utf-8")
        env = {
            **user_environ(),
            "LLMORCH_CONFIG": str(config),
            "NO_COLOR": "1",
            "XDG_DATA_HOME": str(root / "data"),
            "LLM_USER_PATH": str(llm_user_dir(root, url)),
        }

        commands: dict[str, list[str]] = {
            "llmorch --version": [str(LLMORCH), "--version"],
            "llmorch --help": [str(LLMORCH), "--help"],
            "llmorch search": [str(LLMORCH), "search", "restic backup schedule", "--limit", "8"],
            "llmorch ask": [str(LLMORCH), "ask", "-q", QUESTION],
            "llmorch workflows list": [str(LLMORCH), "workflows", "list"],
            "floor: pydantic model": [sys.executable, "-c", PYDANTIC_FLOOR],
            "floor: SDK one answer": [
                sys.executable,
                "-c",
                SDK_FLOOR,
                url,
                QUESTION,
                SCRIPTED_MODEL,
            ],
        }
        if llm_exe is not None:
            commands["llm --version"] = [str(llm_exe), "--version"]
            commands["llm -m MODEL"] = [str(llm_exe), "-m", "bench", QUESTION]
        medians: dict[str, float] = {}
        print(
            f"\n{'command':<24} {'median ms':>10} {'min ms':>8} {'max ms':>8}   ({args.runs} runs)"
        )
        for name, argv in commands.items():
            samples = time_command(argv, args.runs, env)
            medians[name] = statistics.median(samples)
            print(f"{name:<24} {medians[name]:>10.1f} {min(samples):>8.1f} {max(samples):>8.1f}")
        if llm_exe is None:
            print(f"{'llm':<24} {'skipped':>10}   {llm_note}")

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average while measuring (1, 5, 15 min): {load}")
    version = medians["llmorch --version"]
    print(
        f"--version under {GOAL_VERSION_MS:.0f} ms: {version:.1f} ms  {verdict(version < GOAL_VERSION_MS)}"
    )
    if "llm --version" in medians:
        ratio = medians["llm --version"] / version
        print(
            f"--version vs llm --version: {ratio:.1f}x faster (goal >= {GOAL_VERSION_RATIO:.0f}x)  {verdict(ratio >= GOAL_VERSION_RATIO)}"
        )
    search = medians["llmorch search"]
    print(
        f"search over {args.chunks} chunks under {GOAL_SEARCH_MS:.0f} ms: {search:.1f} ms  {verdict(search < GOAL_SEARCH_MS)}"
        f"  (floor: a process defining one pydantic model, {medians['floor: pydantic model']:.1f} ms)"
    )
    if "llm -m MODEL" in medians:
        ratio = medians["llmorch ask"] / medians["llm -m MODEL"]
        sdk_ratio = medians["floor: SDK one answer"] / medians["llm -m MODEL"]
        print(
            f"ask / llm -m MODEL against one instant server: {ratio:.2f} (goal <= {GOAL_ASK_RATIO})  {verdict(ratio <= GOAL_ASK_RATIO)}"
            f"  (floor: the SDK alone streaming one answer, {sdk_ratio:.2f})"
        )
    listing = medians["llmorch workflows list"]
    print(
        f"workflows list with {USER_WORKFLOW_FILES} user files under {GOAL_WORKFLOWS_LIST_MS:.0f} ms: {listing:.1f} ms  {verdict(listing < GOAL_WORKFLOWS_LIST_MS)}"
    )


if __name__ == "__main__":
    main()
