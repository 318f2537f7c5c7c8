"""Workflow fixtures."""

from __future__ import annotations

import pytest
from workflow_kit import NotesInMemory


@pytest.fixture
def notes() -> NotesInMemory:
    return NotesInMemory()
