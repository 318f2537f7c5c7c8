"""A transport that gives up at once on a host that refuses connections (no retry ladder).

The SDKs retry every connection failure with backoff, which is right for a server mid-restart
but costs seconds before a fallback profile can answer. They never retry their own error types,
so this transport raises one for a refused (or unanswered) connect; everything else, including
timeouts and 5xx answers, keeps the SDK's retries.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from llmorch.lazy_tls import LazyTlsTransport


class RefusedFastTransport(httpx2.AsyncBaseTransport):
    """Wraps the real transport; `refused` builds the SDK's connection error for a request."""

    def __init__(self, refused: Callable[[httpx2.Request], Exception]) -> None:
        self._inner = LazyTlsTransport()
        self._refused = refused

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._inner.handle_async_request(request)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise self._refused(request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()
