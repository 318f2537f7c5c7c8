"""python-telegram-bot and httpx log through the standard library; their warnings join llmorch's
log (loguru, where every sink redacts the token) instead of printing raw to stderr."""

from __future__ import annotations

import logging

from loguru import logger

_LIBRARIES = ("telegram", "httpx")


class _ToLoguru(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelname if record.levelname in ("WARNING", "ERROR", "CRITICAL") else "INFO"
        logger.opt(exception=record.exc_info).log(level, "{}: {}", record.name, record.getMessage())


def forward_library_logs() -> None:
    """Warnings and errors only: httpx's INFO lines carry each request's URL, token included."""
    for name in _LIBRARIES:
        library = logging.getLogger(name)
        library.handlers = [_ToLoguru(level=logging.WARNING)]
        library.propagate = False
