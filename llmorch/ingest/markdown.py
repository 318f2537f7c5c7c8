"""Obsidian-flavoured markdown: frontmatter (tags, aliases, title), inline #tags and [[wikilinks]]
found outside code, and the note's title. Broken frontmatter is reported, never fatal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# Obsidian tags: '#' not preceded by a word char, '#' or '/', made of letters, digits, _ - /,
# and not all digits (so "#123" in "issue #123" is not a tag).
_TAG = re.compile(r"(?<![\w#/&])#([\w\-/]*[^\W\d][\w\-/]*)")
_WIKILINK = re.compile(r"!?\[\[([^\[\]|#^]*?)\\?(?:[#^][^\[\]|]*?)?(?:\\?\|[^\[\]]*)?\]\]")


@dataclass(frozen=True)
class Note:
    title: str
    body: str
    tags: list[str] = field(default_factory=list[str])
    aliases: list[str] = field(default_factory=list[str])
    links: list[str] = field(default_factory=list[str])
    frontmatter_error: str | None = None


def parse_note(text: str, fallback_title: str) -> Note:
    """Split frontmatter from body and collect the note's metadata."""
    meta, body, error = _split_frontmatter(text)
    prose = "\n".join(prose_lines(body))
    declared = _as_names(meta.get("tags"), r"[,\s]+") + _as_names(meta.get("tag"), r"[,\s]+")
    tags = _unique(
        [t.lstrip("#").lower() for t in declared] + [t.lower() for t in _TAG.findall(prose)]
    )
    links = _unique([m.strip() for m in _WIKILINK.findall(prose) if m.strip()])
    title = meta.get("title")
    return Note(
        title=str(title).strip() if title else (_first_h1(body) or fallback_title),
        body=body,
        tags=tags,
        aliases=_unique(_as_names(meta.get("aliases"), ",") + _as_names(meta.get("alias"), ",")),
        links=links,
        frontmatter_error=error,
    )


def with_parent_tags(tags: list[str]) -> list[str]:
    """The tags a note is found by: a nested tag counts for its parents too, as in Obsidian's
    search (`homelab/backup` is also `homelab`)."""
    expanded: list[str] = []
    for tag in tags:
        parts = tag.split("/")
        expanded += ["/".join(parts[:depth]) for depth in range(len(parts), 0, -1)]
    return _unique([t for t in expanded if t])


def prose_lines(body: str) -> Iterator[str]:
    """The body's lines outside fenced code, with inline code spans blanked out."""
    fence: str | None = None
    for line in body.splitlines():
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            continue
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        yield _INLINE_CODE.sub(" ", line)


class _DatesAsTextLoader(yaml.SafeLoader):
    """Keeps dates as the text written: a typo such as `date: 2024-13-45` then costs nothing,
    where PyYAML would raise and lose the note's tags with it."""


_DatesAsTextLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _DatesAsTextLoader.construct_scalar
)


class _FrontmatterYAML(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=_DatesAsTextLoader)  # a SafeLoader subclass: no objects built


def _split_frontmatter(text: str) -> tuple[dict[str, Any], str, str | None]:
    try:
        post = frontmatter.loads(text, handler=_FrontmatterYAML())
    # PyYAML's constructors raise plain ValueError/KeyError for values such as `!!float abc`.
    except (yaml.YAMLError, ValueError, KeyError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at frontmatter line {mark.line}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or f"bad value ({exc})"
        try:
            _, body = YAMLHandler().split(text)
        except ValueError:
            body = text
        return {}, body.lstrip("\n"), f"broken YAML frontmatter{where}: {problem}"
    metadata: dict[str, Any] = dict(post.metadata)
    return metadata, post.content, None


def _as_names(value: Any, separator: str) -> list[str]:
    """Frontmatter lists come as YAML lists or as one string split on `separator` (a regex)."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = re.split(separator, value)
    elif isinstance(value, list | tuple | set):
        items = list(value)  # pyright: ignore[reportUnknownArgumentType]
    else:
        items = [value]
    return [str(i).strip() for i in items if str(i).strip()]


def _first_h1(body: str) -> str | None:
    for line in prose_lines(body):
        match = HEADING.match(line)
        if match and len(match.group(1)) == 1 and match.group(2).strip():
            return match.group(2).strip()
    return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
