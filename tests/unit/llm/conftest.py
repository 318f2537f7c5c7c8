"""Fixtures for the llm tests: a scripted server and clients wired to it through MockTransport."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from openai_script import ClientFactory, ScriptedServer

from llmorch.config import LlmSettings
from llmorch.llm.client import LlmClient


@pytest.fixture
def server() -> ScriptedServer:
    return ScriptedServer()


@pytest.fixture
def make_client(server: ScriptedServer) -> ClientFactory:
    """Clients on the scripted server; retries off unless a test asks for them."""

    def build(**settings: Any) -> LlmClient:
        values: dict[str, Any] = {"base_url": "http://llm.test/v1", "max_retries": 0, **settings}
        transport = httpx2.MockTransport(server.handle)
        return LlmClient.from_settings(
            LlmSettings(**values), http_client=httpx2.AsyncClient(transport=transport)
        )

    return build
