"""Run ids that sort by time (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32),
so `ORDER BY id` is `ORDER BY start` and an id says roughly when its run began."""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80

# The last id made here: ids made within one millisecond count up from it (ULID's monotonic
# mode), so runs a process starts back to back still list in the order they started.
_last = 0
_lock = threading.Lock()


def new_run_id(now_ms: int | None = None) -> str:
    """26 characters: 10 of time, 16 of randomness."""
    global _last
    ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    with _lock:
        value = (ms << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
        if ms == _last >> _RANDOM_BITS and value <= _last:
            value = _last + 1
        _last = value
    chars: list[str] = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
