"""Short excerpts for citations: the part of a chunk that holds the most of the query's words."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w{3,}")


def make_snippet(text: str, query: str, width: int = 240) -> str:
    """About `width` characters of `text` around the query words it contains, on word edges."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    centre = _best_match(flat, query, width)
    start = max(0, min(centre - width // 3, len(flat) - width))
    end = start + width
    if start > 0:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < centre else start
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start > 0 else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _best_match(flat: str, query: str, width: int) -> int:
    """Where the window showing the most query words starts; 0 when none occurs.

    Words match at word starts ("backup" finds "backups", "ups" does not find "groups"), and
    longer words weigh more, so "the" or "how" never outweigh the word that made the hit."""
    wanted = {w.lower() for w in _WORD.findall(query)}
    found = [
        (m.start(), word)
        for m in _WORD.finditer(flat.lower())
        for word in wanted
        if m.group().startswith(word)
    ]
    best, best_weight = 0, 0
    for anchor, _ in found:
        seen = {word for pos, word in found if anchor <= pos < anchor + width * 2 // 3}
        weight = sum(len(word) for word in seen)
        if weight > best_weight:
            best, best_weight = anchor, weight
    return best
