"""Secrets kept out of every output: configured secret values and credential-shaped text are
replaced by a marker in logs, printed errors, JSON on stdout, tracebacks and run records.

The configured values are registered once, when settings are loaded, so every surface that prints
or stores text redacts the same secrets without being handed them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

REDACTED = "[REDACTED]"

# Patterns that carry credentials whatever their value: bearer tokens, api keys in text,
# OpenAI-style keys that were never configured (e.g. echoed back in a server error), and the
# password in a URL's user info (`http://bob:secret@host`). Each comes with a word it cannot match
# without, checked first: a plain `in` on long texts (prompts full of passages, in run records) is
# far cheaper than the regular expression.
_SECRET_PATTERNS = (
    (
        "authorization",
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?\s*(?:bearer|basic)\s+)[^\s'\",}]+"),
    ),
    # Not a `{` or `[`: a key's JSON object (`"llm.api_key": {"value": …}`) is not its value.
    ("key", re.compile(r"(?i)((?:api[_-]?key|x-api-key)['\"]?\s*[:=]\s*['\"]?)[^\s'\",{}\[\]]+")),
    ("bearer", re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9_\-.~+/=]{8,}")),
    ("sk-", re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")),
    ("://", re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+(?=@)")),
)
_MIN_SECRET_CHARS = 4
"""Shorter values would redact ordinary words; no real key is this short."""

_registered: set[str] = set()


class Redactor:
    """Replaces the given secrets, every registered one and credential-shaped text with a marker."""

    def __init__(self, secret_values: Sequence[str] = ()) -> None:
        self._own = {v for v in secret_values if len(v) >= _MIN_SECRET_CHARS}

    def __call__(self, text: str) -> str:
        # Longest first, so a secret that contains another is replaced whole.
        for value in sorted(self._own | _registered, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        lowered = text.lower()
        for word, pattern in _SECRET_PATTERNS:
            if word in lowered:
                text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
        return text


def register_secrets(values: Iterable[str]) -> None:
    """Make these values secret for every redaction in this process from now on."""
    _registered.update(v for v in values if len(v) >= _MIN_SECRET_CHARS)


def redact(text: str) -> str:
    """`text` with every registered secret and credential-shaped part replaced."""
    return _default(text)


_default = Redactor()
