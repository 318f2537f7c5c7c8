"""`llmorch chat` in a real pseudo-terminal, against a scripted model server that streams slowly.

The scripted server answers "Turn N: ..." where N counts the user messages it was sent, so the
text shows whether the conversation carried across turns (and that a cancelled turn did not).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
import yaml
from indexed_vault import LLMORCH, indexed_vault_env

REPO = Path(__file__).resolve().parents[2]
SCRIPTED_LLM = REPO / "tests" / "unit" / "cli" / "scripted_llm.py"
PROMPT = "you>"  # prompt-toolkit draws the trailing space as a cursor move, not a character

VAULT = {
    "Backup strategy.md": "# Backup strategy\n\n## Schedule\n\nRestic runs nightly at 02:30.\n",
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays.\n",
}


@pytest.fixture
def slow_llm_url() -> Iterator[str]:
    """The scripted server as its own process, streaming a word every 0.25 s."""
    server = subprocess.Popen(
        [sys.executable, str(SCRIPTED_LLM), "--delay", "0.25"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def chat_env(tmp_path: Path, slow_llm_url: str) -> dict[str, str]:
    return indexed_vault_env(
        tmp_path,
        VAULT,
        {"base_url": slow_llm_url, "max_retries": 0},
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",  # pexpect does not answer cursor-position queries
    )


def spawn_chat(env: dict[str, str], *args: str) -> pexpect.spawn:
    child = pexpect.spawn(
        str(LLMORCH),
        ["chat", *args],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 120),
    )
    child.expect(PROMPT)
    return child


def test_chat_answers_lists_sources_cancels_with_ctrl_c_and_exits(
    chat_env: dict[str, str],
) -> None:
    child = spawn_chat(chat_env)
    child.sendline("when does restic run")
    child.expect(r"Turn 1: you asked about")
    child.expect(r"sources")
    child.expect(PROMPT)

    child.sendline("/sources")
    child.expect(r"\[1\] Backup strategy\.md#Backup strategy > Schedule")
    child.expect(PROMPT)

    child.sendline("and the garden?")
    child.expect("Turn 2")  # the first exchange went with the question
    child.sendintr()  # Ctrl-C while the answer is still streaming
    child.expect("answer cancelled")
    child.expect(PROMPT)

    child.sendline("still there?")
    child.expect("Turn 2: you asked about")  # the cancelled turn did not join the history
    child.expect(PROMPT)

    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_d_exits_and_resume_continues_the_saved_conversation_with_its_input_history(
    chat_env: dict[str, str],
) -> None:
    child = spawn_chat(chat_env)
    child.sendline("when does restic run")
    child.expect("Turn 1")
    child.expect(PROMPT)
    child.sendeof()  # Ctrl-D
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    resumed = spawn_chat(chat_env, "--resume")
    assert "resuming session" in (resumed.before or "")
    resumed.send("\x1b[A\r")  # Up recalls the last session's question from the state dir
    resumed.expect("Turn 2: you asked about Question: when does restic run")
    resumed.expect(PROMPT)
    resumed.sendline("/reset")
    resumed.expect("new conversation")
    resumed.sendline("fresh start")
    resumed.expect("Turn 1")
    resumed.expect(PROMPT)
    resumed.sendline("/exit")
    resumed.expect(pexpect.EOF)


def test_model_command_shows_the_model_and_refuses_a_name_the_server_does_not_offer(
    chat_env: dict[str, str],
) -> None:
    child = spawn_chat(chat_env)
    child.sendline("/model")
    child.expect(r"scripted-model\r\n")  # none configured: the first one the server lists
    child.sendline("/model no-such-model")
    child.expect(r"error:.* model 'no-such-model' is not available")
    child.expect("scripted-model")  # the message lists what the server offers
    child.expect(PROMPT)
    child.sendline("/model scripted-model")
    child.expect("model: scripted-model")
    child.sendline("when does restic run")
    child.expect("Turn 1: you asked about")
    child.expect(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_cancels_a_slash_command_waiting_on_a_silent_server_and_the_chat_goes_on(
    tmp_path: Path,
) -> None:
    with socket.socket() as silent:  # connections queue up in the backlog and are never answered
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        config = tmp_path / "silent.yaml"
        data = {
            "llm": {"base_url": f"http://127.0.0.1:{silent.getsockname()[1]}/v1", "max_retries": 0},
            "store": {"path": str(tmp_path / "qdrant")},
        }
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        env = {
            **os.environ,
            "LLMORCH_CONFIG": str(config),
            "TERM": "xterm",
            "PROMPT_TOOLKIT_NO_CPR": "1",
        }
        child = spawn_chat(env)
        child.sendline("/model")  # asks the server which model it serves
        child.expect(r"\x1b\[\?2004l")  # prompt-toolkit let go of the terminal: the command runs
        time.sleep(0.5)  # a margin, so the interrupt lands inside the request
        child.sendintr()
        child.expect(r"\(/model cancelled\)")
        child.expect(PROMPT)
        child.sendline("/help")
        child.expect("/sources")
        child.sendline("/exit")
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0


def test_ctrl_c_during_ask_stops_it_with_exit_130_and_one_uncoloured_line(
    chat_env: dict[str, str],
) -> None:
    child = pexpect.spawn(
        str(LLMORCH),
        ["ask", "-q", "when does restic run"],
        env={**chat_env, "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=20,
    )
    child.expect("Turn 1")  # streaming has started
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    output = child.before or ""
    assert "\x1b[1;31m" not in output  # NO_COLOR: bold stays, red goes
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    assert [line for line in plain.splitlines() if "error:" in line] == ["error: interrupted"]
    assert "Traceback" not in output


def test_ask_on_a_narrow_terminal_wraps_the_streamed_answer_then_numbers_the_sources(
    chat_env: dict[str, str],
) -> None:
    child = pexpect.spawn(
        str(LLMORCH),
        ["ask", "-q", "when does restic run"],
        env=chat_env,
        encoding="utf-8",
        timeout=20,
        dimensions=(24, 40),  # the answer is longer than one line
    )
    child.expect("waiting for the model")  # a spinner until the first word arrives
    child.expect("Turn 1: you asked about")
    child.expect(r"for\s+details\.")  # the end of the paragraph, wrapped onto a later line
    child.expect("Sources:")
    child.expect(r"\[1\] Backup strategy\.md#Backup strategy")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def _leave(child: pexpect.spawn) -> None:
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_tab_completes_slash_commands_with_descriptions_then_model_names(
    chat_env: dict[str, str],
) -> None:
    child = spawn_chat(chat_env)
    child.send("/mo")
    time.sleep(0.3)  # typed and pressed apart, as a person does
    child.send("\t")
    child.expect("show or switch the model")  # the menu lists both commands with descriptions
    child.expect("show or switch how questions are answered")
    child.send("l ")  # Tab inserted the common part, /mode; this makes it /model
    time.sleep(0.3)
    child.send("\t")  # the server's one model completes the argument
    time.sleep(0.3)
    child.send("\r")
    child.expect("model: scripted-model")
    child.expect(PROMPT)
    _leave(child)


def test_ctrl_r_finds_an_earlier_question_and_sends_it_again(chat_env: dict[str, str]) -> None:
    child = spawn_chat(chat_env)
    child.sendline("when does restic run")
    child.expect("Turn 1")
    child.expect(PROMPT)
    child.sendline("and the garden")
    child.expect("Turn 2")
    child.expect(PROMPT)
    child.send("\x12")  # Ctrl-R
    time.sleep(0.3)
    child.send("restic")
    child.expect(r"reverse-i-search.*when does")
    time.sleep(0.3)
    child.send("\r")  # accepts the match
    time.sleep(0.3)
    child.send("\r")  # and sends it
    child.expect("Turn 3: you asked about Question: when does restic run")
    child.expect(PROMPT)
    _leave(child)


def test_a_session_saved_by_name_in_one_process_is_loaded_in_another(
    chat_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**chat_env, "XDG_STATE_HOME": str(tmp_path / "state")}
    first = spawn_chat(env)
    first.sendline("when does restic run")
    first.expect("Turn 1")
    first.expect(PROMPT)
    first.sendline("/save homelab")
    first.expect(r"sessions/homelab\.json")
    first.expect(PROMPT)
    _leave(first)

    second = spawn_chat(env)
    second.sendline("/sessions")
    second.expect(r"homelab .* 2 messages")
    second.sendline("/load homelab")
    second.expect(r"loaded session homelab \(2 messages\)")
    second.sendline("and after that?")
    second.expect("Turn 2: you asked about")  # the first process's exchange went with it
    second.expect(PROMPT)
    second.sendline("/rename restic")
    second.expect(r"sessions/restic\.json")
    second.expect(PROMPT)
    _leave(second)

    third = spawn_chat(env, "--session", "restic")
    assert "resuming session restic (4 messages)" in (third.before or "")
    _leave(third)
    sessions = tmp_path / "state" / "llmorch" / "sessions"
    assert sorted(p.name for p in sessions.iterdir()) == ["restic.json"]
    assert (sessions.stat().st_mode & 0o777, (sessions / "restic.json").stat().st_mode & 0o777) == (
        0o700,
        0o600,
    )
    history = tmp_path / "state" / "llmorch" / "chat_history"
    assert history.stat().st_mode & 0o777 == 0o600


def test_a_double_slash_sends_a_message_that_starts_with_a_slash(
    chat_env: dict[str, str],
) -> None:
    child = spawn_chat(chat_env)
    child.sendline("//etc/fstab mounts what?")
    child.expect("Turn 1: you asked about Question: /etc/fstab mounts what")
    child.expect(PROMPT)
    _leave(child)


def test_edit_composes_the_message_in_the_editor(chat_env: dict[str, str]) -> None:
    editor = 'sh -c \'printf "written in the editor" > "$1"\' editor'
    child = spawn_chat({**chat_env, "EDITOR": editor, "VISUAL": ""})
    child.sendline("/edit")
    child.expect("Turn 1: you asked about Question: written in the editor")
    child.expect(PROMPT)
    _leave(child)


def test_run_completes_a_workflow_name_and_its_result_joins_the_conversation(
    chat_env: dict[str, str],
) -> None:
    child = spawn_chat(chat_env)
    child.send("/run pl")
    time.sleep(0.3)
    child.send("\t")  # completes the workflow name from the registry
    child.expect("plain")
    child.sendline(" 'query=when does restic run'")
    child.expect("Turn 1: you asked about when does restic run")  # plain: the bare question
    child.expect(PROMPT)
    child.sendline("and then?")
    child.expect("Turn 2: you asked about")  # the workflow's exchange is in the history
    child.expect(PROMPT)
    _leave(child)
