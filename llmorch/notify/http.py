"""One HTTP POST for the targets that speak HTTP, its failures sorted into worth retrying or not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmorch.notify.failure import DeliveryError

if TYPE_CHECKING:
    import httpx2


async def post(
    url: str,
    *,
    timeout_s: float,
    json: Any = None,
    content: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    """The server's response, whatever its status; a DeliveryError when there is none."""
    import httpx2

    from llmorch.lazy_tls import LazyTlsTransport

    # The host only in messages: a Telegram URL carries the bot token in its path.
    where = urlsplit(url)
    try:
        async with httpx2.AsyncClient(timeout=timeout_s, transport=LazyTlsTransport()) as client:
            return await client.post(url, json=json, content=content, headers=headers)
    except httpx2.UnsupportedProtocol as exc:
        raise DeliveryError(f"not an http(s) URL: {where.scheme}://…", retryable=False) from exc
    except httpx2.TransportError as exc:
        raise DeliveryError(
            f"cannot reach {where.scheme}://{where.netloc}: {exc or type(exc).__name__}",
            retryable=True,
        ) from exc
    except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
        raise DeliveryError(f"invalid request to {where.netloc}: {exc}", retryable=False) from exc


def refused(response: httpx2.Response, detail: str = "") -> DeliveryError:
    """The error for a response that is not a success: 429 and 5xx are worth another attempt."""
    status = response.status_code
    retry_after = _seconds(response.headers.get("retry-after"))
    reason = detail or response.reason_phrase
    return DeliveryError(
        f"HTTP {status}{f': {reason}' if reason else ''}",
        retryable=status == 429 or status >= 500,
        retry_after=retry_after,
    )


def _seconds(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:  # an HTTP date: rare for these services; the usual backoff applies
        return None
