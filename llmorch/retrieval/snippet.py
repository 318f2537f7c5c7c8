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
    if not wanted:
        return 0
    # Whole words (maximal \w runs) starting with a wanted word, found by the regex engine; the
    # longest wanted word matches first, and the shorter ones that also match are its prefixes.
    longest_first = sorted(wanted, key=len, reverse=True)
    starts = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, longest_first)) + r")")
    also = {w: [v for v in wanted if v != w and w.startswith(v)] for w in wanted}
    found = [
        (m.start(), word)
        for m in starts.finditer(flat.lower())
        for word in (m.group(1), *also[m.group(1)])
    ]
    # One pass with a sliding window (matches in [anchor, anchor + span)): a long chunk that
    # repeats the query's words has hundreds of matches, and every search makes a snippet per hit.
    span = width * 2 // 3
    counts: dict[str, int] = dict.fromkeys(wanted, 0)
    best, best_weight, weight, end = 0, 0, 0, 0
    for anchor, word in found:
        while end < len(found) and found[end][0] < anchor + span:
            added = found[end][1]
            weight += len(added) if counts[added] == 0 else 0
            counts[added] += 1
            end += 1
        if weight > best_weight:
            best, best_weight = anchor, weight
        counts[word] -= 1
        weight -= len(word) if counts[word] == 0 else 0
    return best
