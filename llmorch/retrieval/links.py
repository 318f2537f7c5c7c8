"""The vault's link graph, read back from the index: a note's `[[wikilinks]]` resolved to notes the
way Obsidian resolves them (by path, file name, title or alias), and the notes linking to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel

from llmorch.errors import RetrievalError

LINK_FIELDS = ["root", "path", "title", "aliases", "links"]


class RelatedNote(BaseModel):
    path: str
    title: str
    relation: Literal["links to", "linked from"]


@dataclass
class _Note:
    path: str
    title: str
    aliases: list[str]
    links: list[str] = field(default_factory=list[str])

    def names(self) -> set[str]:
        """Every way a wikilink may name this note, lowercased (Obsidian ignores case)."""
        stem = PurePosixPath(self.path).with_suffix("")
        return {n.lower() for n in (str(stem), stem.name, self.title, *self.aliases) if n}


class LinkGraph:
    """Notes and their resolved links; built from one pass over the stored payloads."""

    def __init__(self, payloads: Iterable[dict[str, Any]]) -> None:
        self._notes: dict[str, _Note] = {}
        for payload in payloads:
            path = str(payload.get("path", ""))
            if path and path not in self._notes:
                self._notes[path] = _Note(
                    path=path,
                    title=str(payload.get("title", "")),
                    aliases=[str(a) for a in payload.get("aliases", [])],
                    links=[str(link) for link in payload.get("links", [])],
                )
        self._by_name: dict[str, str] = {}
        for note in sorted(self._notes.values(), key=lambda n: n.path):
            for name in note.names():
                self._by_name.setdefault(name, note.path)

    def find(self, name: str) -> str:
        """The note a user means by `name` (path, file name, title or alias)."""
        path = self._resolve(name)
        if path is None:
            raise RetrievalError(
                f"no indexed note is called {name!r}",
                hint="give its path in the vault, file name, title or an alias",
            )
        return path

    def related(self, name: str) -> list[RelatedNote]:
        """The notes `name` links to, then the notes linking to it (each once, in path order)."""
        path = self.find(name)
        note = self._notes[path]
        outgoing = {target for link in note.links if (target := self._resolve(link))}
        incoming = {
            other.path
            for other in self._notes.values()
            if other.path != path and any(self._resolve(link) == path for link in other.links)
        }
        out = [self._related(p, "links to") for p in sorted(outgoing - {path})]
        return out + [self._related(p, "linked from") for p in sorted(incoming)]

    def related_to_path(self, path: str) -> list[RelatedNote]:
        """Like `related`, for a note known by its path in the vault; none for an unknown path."""
        return self.related(path) if path in self._notes else []

    def _resolve(self, name: str) -> str | None:
        return self._by_name.get(name.strip().removesuffix(".md").lower())

    def _related(self, path: str, relation: Literal["links to", "linked from"]) -> RelatedNote:
        return RelatedNote(path=path, title=self._notes[path].title, relation=relation)
