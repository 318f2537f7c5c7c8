"""The model's Markdown as Telegram's HTML subset (b, i, s, code, pre, a, blockquote), cut into
messages Telegram accepts: at most 4096 characters each, split at paragraph boundaries."""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.token import Token

MESSAGE_LIMIT = 4000
"""Telegram's limit is 4096 characters of visible text; rendering never lengthens the Markdown
(markup is removed, `&amp;` counts as one), so pieces this long fit as HTML and as plain text."""

_INLINE_TAGS = {
    "strong_open": "<b>",
    "strong_close": "</b>",
    "em_open": "<i>",
    "em_close": "</i>",
    "s_open": "<s>",
    "s_close": "</s>",
    "link_close": "</a>",
}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def to_html(markdown: str) -> str:
    """Telegram HTML for `markdown`; tags are always balanced, text always escaped."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("strikethrough").parse(markdown)
    out: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number] (ordered) or [] (bullets)
    for token in tokens:
        out.append(_block(token, lists))
    html = re.sub(r"\s+</blockquote>", "</blockquote>", "".join(out))
    return re.sub(r"\n{3,}", "\n\n", html).strip()


def _block(token: Token, lists: list[list[int]]) -> str:
    kind = token.type
    if kind == "inline":
        return _inline(token.children or [])
    if kind == "heading_open":
        return "<b>"
    if kind == "heading_close":
        return "</b>\n\n"
    if kind == "paragraph_close":
        return "\n" if token.hidden else "\n\n"  # a tight list's items stay one line apart
    if kind in ("bullet_list_open", "ordered_list_open"):
        start = int(token.attrGet("start") or 1)
        lists.append([start] if kind == "ordered_list_open" else [])
        return ""
    if kind in ("bullet_list_close", "ordered_list_close"):
        lists.pop()
        return "\n" if lists else "\n\n"
    if kind == "list_item_open":
        return _bullet(lists)
    if kind in ("fence", "code_block"):
        language = token.info.strip().split(" ")[0]
        css = f' class="language-{escape(language)}"' if language else ""
        return f"<pre><code{css}>{escape(token.content.rstrip())}</code></pre>\n\n"
    if kind == "blockquote_open":
        return "<blockquote>"
    if kind == "blockquote_close":
        return "</blockquote>\n\n"
    if kind == "hr":
        return "———\n\n"
    if kind == "html_block":
        return escape(token.content) + "\n"
    return ""  # paragraph_open, list_item_close: their text and breaks come from elsewhere


def _bullet(lists: list[list[int]]) -> str:
    indent = "  " * (len(lists) - 1)
    numbers = lists[-1] if lists else []
    if not numbers:
        return f"{indent}• "
    numbers[0] += 1
    return f"{indent}{numbers[0] - 1}. "


def _inline(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind in ("text", "html_inline"):
            parts.append(escape(child.content, quote=False))
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "code_inline":
            parts.append(f"<code>{escape(child.content, quote=False)}</code>")
        elif kind == "link_open":
            parts.append(f'<a href="{escape(str(child.attrGet("href") or ""))}">')
        elif kind == "image":
            parts.append(escape(child.content or str(child.attrGet("src") or ""), quote=False))
        else:
            parts.append(_INLINE_TAGS.get(kind, ""))
    return "".join(parts)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at a paragraph, else a line, else a
    space; a code block cut in two is closed and reopened, so each piece renders on its own."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        room = limit - 8  # a closing fence may be added
        cut = _cut(rest, room)
        piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip("\n ")
        fence = _open_fence(piece)
        if fence is not None:
            piece += "\n" + fence[: len(fence) - len(fence.lstrip("`~"))]
            rest = f"{fence}\n{rest}"
        pieces.append(piece)
    if rest:
        pieces.append(rest)
    return pieces


def _cut(text: str, room: int) -> int:
    """Where to end the next piece: the latest good boundary in the back half of `room`."""
    for boundary in ("\n\n", "\n", " "):
        at = text.rfind(boundary, 0, room)
        if at >= room // 2:
            return at
    return room


def _open_fence(piece: str) -> str | None:
    """The opening line of a code block `piece` leaves open, None when all are closed."""
    opened: str | None = None
    for line in piece.splitlines():
        match = _FENCE.match(line)
        if match is None:
            continue
        if opened is None:
            opened = line.strip()
        elif line.strip().startswith(opened[0] * 3):
            opened = None
    return opened
