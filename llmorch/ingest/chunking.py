"""Heading-aware chunks: each chunk stays inside one section and knows its heading path, respects a
size bound with overlap, and never cuts a fenced code block in two."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmorch.ingest.markdown import FENCE, HEADING

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    heading: str
    text: str


@dataclass(frozen=True)
class _Block:
    text: str
    code: bool


@dataclass
class _Section:
    heading: str
    blocks: list[_Block]


def chunk_markdown(body: str, *, size: int, overlap: int) -> list[Chunk]:
    """Chunks of at most `size` characters (a code block longer than that stays whole, alone)."""
    overlap = min(overlap, size // 2)
    chunks: list[Chunk] = []
    for section in _sections(body):
        chunks += [Chunk(section.heading, t) for t in _pack(section.blocks, size, overlap)]
    return chunks


def _sections(body: str) -> list[_Section]:
    """Split the body at headings (outside code) into sections of paragraph and code blocks."""
    stack: list[tuple[int, str]] = []
    sections = [_Section("", [])]
    lines: list[str] = []
    fence: str | None = None

    def end_block(code: bool = False) -> None:
        text = "\n".join(lines).strip("\n")
        if text.strip():
            sections[-1].blocks.append(_Block(text, code))
        lines.clear()

    for line in body.splitlines():
        opened = FENCE.match(line)
        if fence is not None:
            lines.append(line)
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
                end_block(code=True)
            continue
        if opened:
            end_block()
            fence = opened.group(1)
            lines.append(line)
            continue
        heading = HEADING.match(line)
        if heading:
            end_block()
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip()))
            sections.append(_Section(" > ".join(title for _, title in stack), []))
        elif line.strip():
            lines.append(line)
        else:
            end_block()
    end_block(code=fence is not None)  # an unclosed fence runs to the end, still one block
    return [s for s in sections if s.blocks]


def _pack(blocks: list[_Block], size: int, overlap: int) -> list[str]:
    """Greedily fill chunks with whole blocks; the next chunk repeats the previous one's tail."""
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for block in _bounded(blocks, size - overlap):
        added = len(block.text) + (2 if current else 0)
        if current and length + added > size:
            chunks.append("\n\n".join(current))
            # Overlap only from prose into prose: a repeated scrap of code would be a split fence.
            last_is_code = FENCE.match(current[-1]) is not None
            tail = "" if block.code or last_is_code else _tail(current[-1], overlap)
            current = [tail] if tail and len(tail) + 2 + len(block.text) <= size else []
            length = len(tail) if current else 0
            added = len(block.text) + (2 if current else 0)
        current.append(block.text)
        length += added
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _bounded(blocks: list[_Block], limit: int) -> list[_Block]:
    """Prose blocks longer than `limit` split at sentence, then word, boundaries; code kept whole."""
    out: list[_Block] = []
    for block in blocks:
        if block.code or len(block.text) <= limit:
            out.append(block)
            continue
        out += [_Block(piece, False) for piece in _split_prose(block.text, limit)]
    return out


def _split_prose(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for unit in _units(text, limit):
        joined = f"{current} {unit}" if current else unit
        if len(joined) <= limit:
            current = joined
            continue
        if current:
            pieces.append(current)
        current = unit
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, limit: int) -> list[str]:
    """Sentences, or words for sentences that are too long, or slices for words that are."""
    units: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if len(sentence) <= limit:
            units.append(sentence)
            continue
        for word in sentence.split():
            units += [word[i : i + limit] for i in range(0, len(word), limit)]
    return units


def _tail(text: str, overlap: int) -> str:
    """The last `overlap` characters, starting on a word boundary."""
    if overlap <= 0:
        return ""
    if len(text) <= overlap:
        return text
    cut = text[-overlap:]
    space = cut.find(" ")
    return cut[space + 1 :] if 0 <= space < len(cut) - 1 else cut
