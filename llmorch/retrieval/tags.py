"""Tags as users type them: `--tags a,b --tags c`, chat's `/tags a,b c`, with or without '#'."""

from __future__ import annotations


def split_tags(values: list[str] | None) -> list[str]:
    """['a,b', '#c d'] as ['a', 'b', 'c', 'd']: a leading '#' dropped as Obsidian users type it."""
    parts = (t.strip().lstrip("#") for v in values or [] for t in v.replace(" ", ",").split(","))
    return [t for t in parts if t]
