"""Run ids that sort by time (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32),
so `ORDER BY id` is `ORDER BY start` and an id says roughly when its run began."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_run_id(now_ms: int | None = None) -> str:
    """26 characters: 10 of time, 16 of randomness."""
    value = ((now_ms if now_ms is not None else time.time_ns() // 1_000_000) << 80) | (
        secrets.randbits(80)
    )
    chars: list[str] = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
