"""`llmorch chat` outside a terminal: the REPL needs one, so it says where to go instead."""

from __future__ import annotations

from cli_invoke import Invoke


def test_chat_with_piped_input_is_a_usage_error_pointing_at_ask(cli: Invoke) -> None:
    result = cli("chat", input="when does restic run?\n")
    assert result.exit_code == 2
    assert "chat needs a terminal" in result.stderr
    assert "llmorch ask" in result.stderr
    assert result.stdout == ""
