"""Short excerpts for citations: the part of a chunk around the first query word it contains."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w{3,}")


def make_snippet(text: str, query: str, width: int = 240) -> str:
    """About `width` characters of `text`, centred on the earliest query word found, on word edges."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lowered = flat.lower()
    positions = [lowered.find(w.lower()) for w in _WORD.findall(query)]
    hits = [p for p in positions if p >= 0]
    centre = min(hits) if hits else 0
    start = max(0, min(centre - width // 3, len(flat) - width))
    end = start + width
    if start > 0:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < centre else start
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start > 0 else "") + flat[start:end] + ("…" if end < len(flat) else "")
