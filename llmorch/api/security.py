"""Who may call the server: API keys compared in constant time, and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence

from llmorch.api.errors import HttpError
from llmorch.errors import ConfigError

SIGNATURE_HEADER = "x-hub-signature-256"


def check_api_key(presented: str | None, keys: Sequence[str]) -> None:
    """401 unless `presented` equals one of `keys`; every key is compared, so timing tells nothing."""
    if not keys:
        return
    if not presented:
        raise HttpError(
            401, "unauthorized", "this server needs an API key (Authorization: Bearer KEY)"
        )
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented.encode(), key.encode())
    if not matched:
        raise HttpError(401, "unauthorized", "the API key is not valid")


def bearer_token(authorization: str | None, api_key_header: str | None) -> str | None:
    """The key from `Authorization: Bearer KEY`, else from `X-API-Key`."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return api_key_header.strip() if api_key_header else None


def check_hmac_signature(body: bytes, header: str | None, secret: str) -> None:
    """401 unless `header` is `sha256=<hex HMAC-SHA256 of body under secret>` (GitHub's form)."""
    if not header or not header.startswith("sha256="):
        raise HttpError(401, "unauthorized", f"missing {SIGNATURE_HEADER}: sha256=<hex digest>")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(header.removeprefix("sha256=").strip().lower(), expected):
        raise HttpError(401, "unauthorized", "the signature does not match the body")


def check_bind_address(host: str, keys: Sequence[str]) -> None:
    """Without keys anyone who can reach the port could use the models and read the notes, so
    only a loopback address may be bound."""
    if keys or is_loopback(host):
        return
    raise ConfigError(
        f"refusing to listen on {host} without an API key",
        hint="set server.api_keys (or LLMORCH_SERVER__API_KEYS) or bind 127.0.0.1",
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
