"""An HTTP transport that loads certificates only once an https URL needs them.

Building a verifying transport loads the CA bundle, 50 to 100 ms of every command that makes a client
(chat model, embedder, reranker), though a local model server speaks plain http. Plain http gets a
transport without certificates; https gets the usual verifying one, built at its first request.
"""

from __future__ import annotations

import httpx2

SDK_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
"""The model SDKs' own defaults for their pooled client."""


class LazyTlsTransport(httpx2.AsyncBaseTransport):
    """Plain http without certificates; https verified, its transport built when first used."""

    def __init__(self, limits: httpx2.Limits = SDK_LIMITS) -> None:
        self._limits = limits
        self._plain = httpx2.AsyncHTTPTransport(limits=limits, verify=False)
        self._tls: httpx2.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.scheme == "http":
            return await self._plain.handle_async_request(request)
        if self._tls is None:
            self._tls = httpx2.AsyncHTTPTransport(limits=self._limits)
        return await self._tls.handle_async_request(request)

    async def aclose(self) -> None:
        await self._plain.aclose()
        if self._tls is not None:
            await self._tls.aclose()
