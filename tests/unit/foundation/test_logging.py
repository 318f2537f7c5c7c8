from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from llmorch import __version__
from llmorch.errors import ConfigError
from llmorch.logging import (
    REDACTED,
    configure_logging,
    new_span_id,
    new_trace_id,
    span_context,
    trace_context,
)

SECRET = "sk-configured-secret-value"


@pytest.fixture(autouse=True)
def restore_loguru() -> Iterator[None]:
    yield
    logger.remove()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_trace_and_span_ids_are_w3c_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", new_trace_id())
    assert re.fullmatch(r"[0-9a-f]{16}", new_span_id())
    assert new_trace_id() != new_trace_id()


def test_json_lines_carry_the_documented_fields() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", json_lines=True, stream=stream)
    with trace_context() as trace_id, span_context(component="ingest") as span_id:
        logger.info("indexed {} notes", 3)
    (record,) = lines(stream)
    assert record["message"] == "indexed 3 notes"
    assert record["level"] == "INFO"
    assert record["component"] == "ingest"
    assert (record["trace_id"], record["span_id"]) == (trace_id, span_id)
    assert (record["service"], record["version"]) == ("llmorch", __version__)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", str(record["time"]))


def test_non_tty_stream_gets_json_by_default() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)
    logger.info("hello")
    assert lines(stream)[0]["message"] == "hello"


def test_level_filters_records() -> None:
    stream = io.StringIO()
    configure_logging(level="WARNING", json_lines=True, stream=stream)
    logger.info("quiet")
    logger.warning("loud")
    assert [r["message"] for r in lines(stream)] == ["loud"]


@pytest.mark.parametrize("json_lines", [True, False])
def test_secrets_never_reach_stderr_or_file(tmp_path: Path, json_lines: bool) -> None:
    stream = io.StringIO()
    log_file = tmp_path / "logs" / "llmorch.log"
    configure_logging(
        level="DEBUG",
        json_lines=json_lines,
        file=log_file,
        secret_values=[SECRET],
        stream=stream,
    )
    logger.debug("calling with key {}", SECRET)
    logger.bind(headers={"Authorization": "Bearer tok-abcdef123"}).info("request")
    logger.info("header Authorization: Bearer tok-abcdef123 sent")
    logger.info('payload {"api_key": "unconfigured-key-42"}')
    logger.warning("server echoed sk-abcdefghijklmnop")
    for text in (stream.getvalue(), log_file.read_text(encoding="utf-8")):
        assert SECRET not in text
        assert "tok-abcdef123" not in text
        assert "unconfigured-key-42" not in text
        assert "sk-abcdefghijklmnop" not in text
        assert text.count(REDACTED) >= 4


@pytest.mark.parametrize(
    ("where", "reason"),
    [("folder", "Is a directory"), ("under-a-file", "is not a folder")],
)
def test_a_log_file_that_cannot_be_opened_is_a_config_error(
    tmp_path: Path, where: str, reason: str
) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    target = tmp_path if where == "folder" else tmp_path / "a-file" / "llmorch.log"
    stream = io.StringIO()
    configure_logging(level="INFO", json_lines=True, stream=stream)

    with pytest.raises(
        ConfigError, match=f"cannot open log file {re.escape(str(target))}: .*{reason}"
    ):
        configure_logging(level="INFO", json_lines=True, file=target, stream=io.StringIO())

    logger.info("still logging")  # the sinks that worked before are left in place
    assert lines(stream)[-1]["message"] == "still logging"


@pytest.mark.parametrize("json_lines", [True, False])
def test_secrets_in_a_logged_exception_are_redacted(json_lines: bool) -> None:
    stream = io.StringIO()
    configure_logging(level="DEBUG", json_lines=json_lines, secret_values=[SECRET], stream=stream)
    try:
        raise RuntimeError(
            f'server echoed {{"Authorization": "Bearer tok-abcdef123", "api_key": "key-42xyz"}}'
            f" for {SECRET}"
        )
    except RuntimeError:
        logger.exception("request failed")
    text = stream.getvalue()
    assert "request failed" in text and "RuntimeError" in text
    for leaked in ("tok-abcdef123", "key-42xyz", SECRET):
        assert leaked not in text


def test_credential_keys_nested_in_extra_are_redacted_but_token_counts_are_kept() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", json_lines=True, stream=stream)
    logger.bind(
        oauth={"access_token": "at-1234567", "refresh_token": "rt-1234567"},
        request={"headers": [{"Proxy-Authorization": "Basic dXNlcjpwYXNz"}]},
        usage={"prompt_tokens": 12, "max_tokens": 256},
    ).info("called")
    (record,) = lines(stream)
    assert record["extra"] == {
        "oauth": {"access_token": REDACTED, "refresh_token": REDACTED},
        "request": {"headers": [{"Proxy-Authorization": REDACTED}]},
        "usage": {"prompt_tokens": 12, "max_tokens": 256},
    }


def test_json_lines_name_the_parent_span_of_a_nested_span() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", json_lines=True, stream=stream)
    with trace_context(), span_context() as outer:
        logger.info("outer")
        with span_context() as inner:
            logger.info("inner")
    first, second = lines(stream)
    assert (first["span_id"], first["parent_span_id"]) == (outer, None)
    assert (second["span_id"], second["parent_span_id"]) == (inner, outer)


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "no_color", "coloured"),
    [(Terminal(), None, True), (Terminal(), "1", False), (io.StringIO(), None, False)],
)
def test_pretty_logs_are_coloured_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, no_color: str | None, coloured: bool
) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    configure_logging(level="INFO", json_lines=False, stream=stream)
    logger.warning("disk almost full")
    assert "disk almost full" in stream.getvalue()
    assert ("\x1b[" in stream.getvalue()) is coloured


def test_a_library_user_sees_no_llmorch_records_until_enabling_them() -> None:
    program = """
import asyncio, sys
from loguru import logger
from llmorch.pipeline import Pipeline, step

@step
async def double(n: int, ctx: object) -> int:
    return n * 2

pipeline = Pipeline.create(double)
asyncio.run(pipeline.execute(1, None))
print("---", file=sys.stderr)
logger.enable("llmorch")
asyncio.run(pipeline.execute(1, None))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    silent, enabled = done.stderr.split("---\n")
    assert silent == ""
    assert "step double completed" in enabled
