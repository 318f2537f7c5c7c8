"""How a sender says an attempt failed, and whether another attempt may do better."""

from __future__ import annotations


class DeliveryError(Exception):
    """One attempt failed; `retryable` when trying again may help (the network, a 429, a 5xx)."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
