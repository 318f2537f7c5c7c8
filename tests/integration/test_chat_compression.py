"""A long conversation with the real llama.cpp server (2048-token context) stays inside the context:
the chat compresses the older turns with a notice instead of failing with "context too long"."""

from __future__ import annotations

import os
from pathlib import Path

import pexpect
import yaml
from conftest import LlamaServer
from indexed_vault import LLMORCH

PROMPT = "you>"
CONTEXT = 2048  # llama-cpp-python's default n_ctx, which the test server runs with


def test_a_long_conversation_is_compressed_and_the_chat_goes_on(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    settings = {
        "llm": {
            "base_url": llama_server.base_url,
            "model": llama_server.model,
            "temperature": 0,
            "context_length": CONTEXT,
        },
        "chat": {"answer_tokens": 96},
        "store": {"path": str(tmp_path / "qdrant")},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    env = {
        **os.environ,
        "LLMORCH_CONFIG": str(config),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    child = pexpect.spawn(
        str(LLMORCH), ["chat", "--no-rag"], env=env, encoding="utf-8", timeout=240
    )
    child.expect(PROMPT)
    paragraph = "The backup server in the garage copies every laptop at night. " * 24
    for n in range(5):  # five 500-token (estimated) questions: more than fits with an answer
        child.sendline(f"Note {n}: {paragraph} What does note {n} say?")
        child.expect("waiting for the model")  # the question was sent; the notice comes after
        if child.expect([r"compressed \d+ earlier messages", PROMPT]) == 0:
            break
    else:
        raise AssertionError("five long turns never needed compression")
    child.expect(PROMPT)  # the turn that needed compression was answered
    before = child.before or ""
    assert "error:" not in before and "context" not in before.replace("-token context", "")
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
