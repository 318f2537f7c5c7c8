"""Shared fixtures for pipeline tests: a recorded sleep and a loguru sink that keeps records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from loguru import logger
from pipeline_testkit import RecordedSleep

if TYPE_CHECKING:
    from loguru import Message


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def log_records() -> Iterator[list[dict[str, Any]]]:
    """Every record logged at DEBUG or above during the test, as loguru record dicts."""
    records: list[dict[str, Any]] = []

    def sink(message: Message) -> None:
        record = message.record
        records.append(
            {"level": record["level"].name, "message": record["message"], **record["extra"]}
        )

    sink_id = logger.add(sink, level="DEBUG")
    yield records
    logger.remove(sink_id)
