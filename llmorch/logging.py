"""Logging through loguru: pretty on a TTY, JSON lines otherwise, trace/span ids, secrets redacted.

Nothing is configured at import time; the CLI calls `configure_logging` once.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from loguru import logger as logger  # re-exported: every llmorch module logs through it

from llmorch import __version__
from llmorch.errors import ConfigError
from llmorch.redaction import REDACTED, Redactor

if TYPE_CHECKING:
    from loguru import Message, Record

SERVICE_NAME = "llmorch"


# llmorch is a library first: its records stay silent until the application asks for them
# (loguru's convention for libraries). `configure_logging`, which the CLI calls, turns them on;
# a library user calls `logger.enable("llmorch")` with sinks of their own.
logger.disable("llmorch")


def new_trace_id() -> str:
    """A W3C trace-context trace id: 16 random bytes as 32 lowercase hex digits."""
    return secrets.token_hex(16)


def new_span_id() -> str:
    """A W3C trace-context span id: 8 random bytes as 16 lowercase hex digits."""
    return secrets.token_hex(8)


# Mirrors the trace id bound in loguru's context, which loguru offers no public getter for.
_current_trace_id: ContextVar[str | None] = ContextVar("llmorch_trace_id", default=None)


def current_trace_id() -> str | None:
    """The trace id bound by an enclosing `trace_context`, if any."""
    return _current_trace_id.get()


@contextmanager
def trace_context(trace_id: str | None = None, **fields: Any) -> Generator[str]:
    """Bind a trace id (new unless given) to every log record made inside the block."""
    tid = trace_id or new_trace_id()
    token = _current_trace_id.set(tid)
    try:
        with logger.contextualize(trace_id=tid, **fields):
            yield tid
    finally:
        _current_trace_id.reset(token)


# The open span and the one it was opened in, so nested spans (a pipeline run inside a step)
# name their parent and the span tree can be rebuilt from the logs.
_current_span_id: ContextVar[str | None] = ContextVar("llmorch_span_id", default=None)
_parent_span_id: ContextVar[str | None] = ContextVar("llmorch_parent_span_id", default=None)


def current_span_id() -> str | None:
    """The span id bound by the innermost enclosing `span_context`, if any."""
    return _current_span_id.get()


def parent_span_id() -> str | None:
    """The span the innermost enclosing `span_context` was opened in, if any."""
    return _parent_span_id.get()


@contextmanager
def span_context(**fields: Any) -> Generator[str]:
    """Bind a fresh span id, its parent span's id (and any extra fields) inside the current trace."""
    parent = _current_span_id.get()
    sid = new_span_id()
    span_token = _current_span_id.set(sid)
    parent_token = _parent_span_id.set(parent)
    try:
        with logger.contextualize(span_id=sid, parent_span_id=parent, **fields):
            yield sid
    finally:
        _parent_span_id.reset(parent_token)
        _current_span_id.reset(span_token)


# Keys whose values are credentials: `headers["Proxy-Authorization"]`, `access_token`, `client_secret`;
# not `max_tokens` or `prompt_tokens`, which are counts.
_SECRET_KEYS = re.compile(
    r"(?i)(authorization|api[_-]?key|password|passwd|secret|cookie|(^|[_-])token$)"
)


def scrub(value: Any, redact: Redactor) -> Any:
    """Redact inside structured extras before serialising, where quoting would hide the patterns."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        mapping = cast("dict[Any, Any]", value)
        return {
            k: REDACTED if _SECRET_KEYS.search(str(k)) else scrub(v, redact)
            for k, v in mapping.items()
        }
    if isinstance(value, list | tuple):
        items = cast("Sequence[Any]", value)
        return [scrub(v, redact) for v in items]
    return redact(str(value)) if not isinstance(value, int | float | bool | None) else value


def json_line(record: Record, redact: Redactor) -> str:
    """One log record as a JSON object on one line (the fields log shippers index on)."""
    extra = dict(record["extra"])
    payload: dict[str, Any] = {
        "time": record["time"].astimezone(UTC).isoformat(timespec="milliseconds"),
        "level": record["level"].name,
        "message": record["message"],
        "component": extra.pop("component", record["name"]),
        "trace_id": extra.pop("trace_id", None),
        "span_id": extra.pop("span_id", None),
        "parent_span_id": extra.pop("parent_span_id", None),
        "service": SERVICE_NAME,
        "version": __version__,
    }
    if extra:
        payload["extra"] = scrub(extra, redact)
    payload["message"] = redact(record["message"])
    if record["exception"] is not None:
        # Redacted before dumping: JSON escapes the quotes the credential patterns look for.
        payload["exception"] = redact(repr(record["exception"].value))
    return redact(json.dumps(payload, default=str, ensure_ascii=False))


class _JsonSink:
    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact

    def __call__(self, message: Message) -> None:
        self._stream.write(json_line(message.record, self._redact) + "\n")
        self._stream.flush()


class _RedactingTextSink:
    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact

    def __call__(self, message: Message) -> None:
        self._stream.write(self._redact(str(message)))
        self._stream.flush()


_PRETTY_FORMAT = (
    "<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
    "<cyan>{extra[component]}</cyan> {message}"
)


def _add_component_default(record: Record) -> None:
    record["extra"].setdefault("component", record["name"] or SERVICE_NAME)


def configure_logging(
    *,
    level: str = "WARNING",
    json_lines: bool | None = None,
    file: Path | None = None,
    secret_values: Sequence[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Replace all sinks: stderr (pretty on a TTY unless json_lines) and an optional JSON file."""
    out = stream if stream is not None else sys.stderr
    redact = Redactor(secret_values)
    use_json = json_lines if json_lines is not None else not out.isatty()
    handle = None if file is None else _open_log_file(file)
    logger.remove()
    logger.configure(patcher=_add_component_default)
    logger.enable("llmorch")
    if use_json:
        logger.add(_JsonSink(out, redact), level=level, format="{message}")
    else:
        # Colour only on a terminal and never under NO_COLOR (https://no-color.org).
        colorize = out.isatty() and not os.environ.get("NO_COLOR")
        logger.add(
            _RedactingTextSink(out, redact), level=level, format=_PRETTY_FORMAT, colorize=colorize
        )
    if handle is not None:
        logger.add(_JsonSink(handle, redact), level="DEBUG", format="{message}")


def _open_log_file(file: Path) -> TextIO:
    """Open the log file for appending, creating its folder; a path we cannot write is a ConfigError."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        return file.open("a", encoding="utf-8")
    except OSError as exc:
        # mkdir reports a file standing where the folder should be as "File exists".
        reason = f"{exc.filename} is not a folder" if isinstance(exc, FileExistsError) else None
        raise ConfigError(
            f"cannot open log file {file}: {reason or exc.strerror or exc}",
            hint="set logging.file to a writable file path",
        ) from exc
