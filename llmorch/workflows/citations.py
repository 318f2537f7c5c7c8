"""Numbered sources: the passages a model sees as [n], and the citations an answer's [n] marks point at."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, Field

from llmorch.retrieval.hits import SearchHit

_MARK = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SPACED_MARK = re.compile(r"( ?)\[(\d+(?:\s*,\s*\d+)*)\](?!\()")
# `[[Note]]` (a wikilink) or `[name]`, but not a markdown link's `[text](url)`.
_NAMED_MARK = re.compile(r"\[\[([^\[\]\n]+?)\]\]|\[([^\[\]\n]+?)\](?!\()")
_NOTE_SUFFIX = re.compile(r"\.(md|markdown)$", re.IGNORECASE)


class Source(BaseModel):
    """One retrieved chunk under the number the model was shown."""

    n: int = Field(ge=1)
    path: str
    root: str = Field(default="", description="The ingested folder `path` is relative to.")
    title: str
    heading: str
    score: float
    snippet: str
    text: str = Field(
        default="", exclude=True, description="The passage itself; kept out of JSON output."
    )
    cited: bool = Field(default=False, description="Whether the answer carries this source's mark.")

    @property
    def citation(self) -> str:
        return f"{self.path}#{self.heading}" if self.heading else self.path


class SourceList:
    """Sources in the order they were first seen; the same chunk found twice keeps its first number."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str, str, int], Source] = {}

    def add(self, hits: Iterable[SearchHit]) -> list[Source]:
        """Number new hits after the existing ones; return the sources for `hits`, in order."""
        added: list[Source] = []
        for hit in hits:
            key = (hit.root, hit.path, hit.heading, hit.chunk_index)
            source = self._by_key.get(key)
            if source is None:
                source = Source(
                    n=len(self._by_key) + 1,
                    path=hit.path,
                    root=hit.root,
                    title=hit.title,
                    heading=hit.heading,
                    score=hit.score,
                    snippet=hit.snippet,
                    text=hit.text,
                )
                self._by_key[key] = source
            added.append(source)
        return added

    @property
    def sources(self) -> list[Source]:
        return list(self._by_key.values())


def passages_block(sources: Iterable[Source]) -> str:
    """The passages as the model reads them: number, where it comes from, then the text."""
    return "\n\n".join(f"[{s.n}] {s.citation}\n{s.text.strip()}" for s in sources)


def number_citations(answer: str, sources: Iterable[Source]) -> str:
    """Rewrite marks that name a source as its `[n]`: by path (`[notes/a.md#Setup]`,
    `[notes/a.md]`, `[notes/a.md#last heading]`), by title, or as a wikilink (`[[a#Setup]]`).

    In agent mode the model sees sources by path, not by number; this makes its marks point at
    the numbered list the user gets, the same as in rag mode. Marks naming nothing stay as written,
    but a number no source has is dropped: a mark must never point at nothing.
    """
    by_name: dict[str, int] = {}
    known: set[int] = set()
    for source in sources:
        known.add(source.n)
        for name in _names(source):
            by_name.setdefault(name.casefold(), source.n)

    def replace(match: re.Match[str]) -> str:
        if _MARK.fullmatch(match.group(0)):
            return match.group(0)  # already a number, even if a note is called "2"
        wikilink, named = match.groups()
        name = (wikilink or "").split("|", 1)[0] or named or ""
        n = by_name.get(" ".join(name.split()).casefold())
        return f"[{n}]" if n is not None else match.group(0)

    numbered = _NAMED_MARK.sub(replace, answer)
    return _without_dangling_marks(numbered, known)


def _without_dangling_marks(answer: str, known: set[int]) -> str:
    """Drops the numbers in `[n]` / `[n, m]` marks that no source has (the whole mark, and the
    space before it, when none is left). `items[1]` right after a word is code, not a mark."""

    def keep_known(match: re.Match[str]) -> str:
        space, group = match.groups()
        if not space and match.start() > 0 and answer[match.start() - 1].isalnum():
            return match.group(0)
        numbers = [n.strip() for n in group.split(",") if int(n) in known]
        return f"{space}[{', '.join(numbers)}]" if numbers else ""

    return _SPACED_MARK.sub(keep_known, answer)


def _names(source: Source) -> list[str]:
    """Every way an answer may name the source: its path, with or without the suffix, with the
    whole heading path or only the last heading, and its title."""
    last = source.heading.rsplit(">", 1)[-1].strip()
    names = [source.title]
    for path in (source.path, _NOTE_SUFFIX.sub("", source.path)):
        names.append(path)
        if source.heading:
            names += [f"{path}#{source.heading}", f"{path}#{last}"]
    return [" ".join(name.split()) for name in names if name]


class CitationStream:
    """`number_citations` for streamed text: holds back an open `[` until its mark is complete."""

    _MAX_HELD = 300  # a "[" that never closes is prose, not a mark: let it through

    def __init__(self, sources: SourceList) -> None:
        self._sources = sources
        self._held = ""

    def feed(self, text: str) -> str:
        """What can be shown now, with any finished marks already numbered."""
        pending = self._held + text
        cut = pending.rfind("[")
        if cut > 0 and pending[cut - 1] == "[":
            cut -= 1  # a wikilink's `[[`: hold both brackets
        closer = "]]" if pending.startswith("[[", cut) else "]"
        if cut < 0 or closer in pending[cut:] or len(pending) - cut > self._MAX_HELD:
            self._held = ""
            return number_citations(pending, self._sources.sources)
        self._held = pending[cut:]
        return number_citations(pending[:cut], self._sources.sources)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


def cited_numbers(answer: str) -> set[int]:
    """Every n the answer marks as [n] or [n, m]."""
    return {int(n) for group in _MARK.findall(answer) for n in group.split(",")}


def mark_cited(sources: list[Source], answer: str) -> list[Source]:
    """The same sources with `cited` set from the answer's marks."""
    marks = cited_numbers(answer)
    return [s.model_copy(update={"cited": s.n in marks}) for s in sources]
