"""Secrets stay out of every output, whatever text carries them back."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_invoke import Invoke
from scripted_llm import Reply, ScriptedLlm

KEY = "gw-live-4f9c2a7e1b"
"""Not OpenAI-shaped: only knowing it is configured can redact it."""


@pytest.mark.parametrize("args", [["ask", "-q", "x", "--json"], ["-vv", "ask", "-q", "x"]])
def test_a_key_echoed_back_by_the_server_is_redacted_in_errors_json_and_tracebacks(
    cli: Invoke,
    llm: ScriptedLlm,
    indexed: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    monkeypatch.setenv("LLMORCH_LLM__API_KEY", KEY)
    echoed = f"Incorrect API key provided: {KEY}. Header was 'Bearer {KEY}'"
    llm.replies.append(Reply(error_status=401, text=echoed))
    result = cli(*args)
    assert result.exit_code == 5
    assert "refused the API key" in result.stderr + result.stdout
    assert KEY not in result.stdout and KEY not in result.stderr
    assert "[REDACTED]" in result.stderr + result.stdout
