"""A transport that gives up at once on a host that refuses connections (no retry ladder).

The SDKs retry every connection failure with backoff, which is right for a server mid-restart
but costs seconds before a fallback profile can answer. They never retry their own error types,
so this transport raises one for a refused (or unanswered) connect; everything else, including
timeouts and 5xx answers, keeps the SDK's retries.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2

_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
"""The SDKs' own defaults for their pooled client."""


class RefusedFastTransport(httpx2.AsyncBaseTransport):
    """Wraps the real transport; `refused` builds the SDK's connection error for a request."""

    def __init__(self, refused: Callable[[httpx2.Request], Exception]) -> None:
        # Plain http (a local model server) needs no certificates: loading the CA bundle costs
        # ~50 ms of every command's start-up, so the verifying transport waits for an https URL.
        self._plain = httpx2.AsyncHTTPTransport(limits=_LIMITS, verify=False)
        self._tls: httpx2.AsyncHTTPTransport | None = None
        self._refused = refused

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._for(request.url.scheme).handle_async_request(request)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise self._refused(request) from exc

    async def aclose(self) -> None:
        await self._plain.aclose()
        if self._tls is not None:
            await self._tls.aclose()

    def _for(self, scheme: str) -> httpx2.AsyncHTTPTransport:
        if scheme == "http":
            return self._plain
        if self._tls is None:
            self._tls = httpx2.AsyncHTTPTransport(limits=_LIMITS)
        return self._tls
