"""`llmorch telegram` as a process: it answers, stops cleanly on SIGTERM, never shows its token,
and says what is wrong with a missing or refused one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from bot_api_standin import ALICE, TOKEN, BotApiStandIn

from llmorch.config import load_config
from llmorch.errors import ConfigError
from llmorch.redaction import redact


def start(config_file: Path, token: str | None, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    command = [sys.executable, "-m", "llmorch", "--config", str(config_file), *args, "telegram"]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def wait_for(check: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_bot_answers_and_stops_cleanly_on_sigterm_without_showing_its_token(
    config_file: Path, telegram_api: BotApiStandIn
) -> None:
    bot = start(config_file, TOKEN, "-vv")
    try:
        wait_for(lambda: bool(telegram_api.called("getUpdates")))
        telegram_api.user_says(ALICE, "hello")
        wait_for(lambda: any("Turn 1" in m.text for m in telegram_api.chat(ALICE)))
    finally:
        bot.send_signal(signal.SIGTERM)
        _, stderr = bot.communicate(timeout=20)
    assert bot.returncode == 0, stderr
    assert "@llmorch_test_bot is answering" in stderr
    assert TOKEN not in stderr and TOKEN.split(":")[1] not in stderr


def test_a_refused_token_is_a_config_error(config_file: Path, telegram_api: BotApiStandIn) -> None:
    bot = start(config_file, "1234:not-the-token")
    _, stderr = bot.communicate(timeout=30)
    assert bot.returncode == 3
    assert "Telegram refused the bot token" in stderr


def test_a_missing_token_says_where_to_put_it(config_file: Path) -> None:
    bot = start(config_file, None)
    _, stderr = bot.communicate(timeout=30)
    assert bot.returncode == 3
    assert "no Telegram bot token in $TELEGRAM_BOT_TOKEN" in stderr


def test_the_token_is_one_of_the_secrets_every_output_redacts(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_config(config_file).settings
    assert TOKEN in settings.secret_values()
    assert TOKEN not in redact(f"POST {settings.telegram.api_url}/bot{TOKEN}/getMe failed")


def test_a_token_file_wins_over_the_environment(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "telegram-bot-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:from-the-environment")
    monkeypatch.setenv("LLMORCH_TELEGRAM__TOKEN_FILE", str(token_file))
    assert load_config(config_file).settings.telegram.resolved_token() == TOKEN
    token_file.unlink()
    with pytest.raises(ConfigError, match=r"cannot read telegram\.token_file"):
        load_config(config_file).settings.telegram.resolved_token()
