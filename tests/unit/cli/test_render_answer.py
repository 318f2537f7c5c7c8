"""AnswerView on a terminal: what the user can read, on screen and scrolled back, after an answer.

The output goes through a tiny model of a terminal that knows the codes Rich's live display writes
(carriage return, newline, cursor up, erase line): enough to see text drawn twice or cut off.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console
from rich.markdown import Markdown

from llmorch.cli import render

WIDTH, HEIGHT = 40, 8

ANSWER = """\
# Backups

Restic runs **nightly at 02:30** and sends the snapshots to the NAS in the hall cupboard [1].

1. seven daily snapshots
2. five weekly snapshots
3. twelve monthly snapshots

```bash
restic forget --keep-daily 7 --keep-weekly 5 --prune
```

The B2 copy keeps the last three monthly exports, so a lost house does not mean lost photos [2].
"""


def terminal_rows(output: str, height: int) -> list[str]:
    """Every row of a terminal `height` rows tall after `output`: the scrollback, then the screen."""
    rows = [""]
    top = row = col = 0  # top: the first row still on screen; the cursor cannot go above it
    for token in re.split(r"(\x1b\[[0-9;?]*[A-Za-z]|\r|\n)", output):
        if token == "\n":
            row, col = row + 1, 0
            if row == len(rows):
                rows.append("")
            top = max(top, row - height + 1)
        elif token == "\r":
            col = 0
        elif token.startswith("\x1b[") and token.endswith("A"):
            row = max(top, row - int(token[2:-1] or 1))
        elif token == "\x1b[2K":
            rows[row] = ""
        elif token and not token.startswith("\x1b"):
            line = rows[row].ljust(col)
            rows[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    return [r.rstrip() for r in rows]


def terminal() -> Console:
    return Console(
        file=io.StringIO(),
        width=WIDTH,
        height=HEIGHT,
        force_terminal=True,
        force_interactive=True,
        color_system=None,
    )


def printed_at_once(markdown: str) -> list[str]:
    """The answer as one static print: what the streamed display should leave behind."""
    console = terminal()
    console.print(Markdown(markdown))
    assert isinstance(console.file, io.StringIO)
    return terminal_rows(console.file.getvalue(), height=10_000)


def stream(
    markdown: str, monkeypatch: pytest.MonkeyPatch, *, words: int | None = None, pace: float = 0
) -> str:
    """Feed the answer word by word, `pace` seconds apart, as a model would; return the output."""
    console = terminal()
    monkeypatch.setattr(render, "out", lambda: console)
    monkeypatch.setattr(render, "_REDRAW_EVERY_S", 0.0)  # draw after every word
    view = render.AnswerView()
    pieces = re.findall(r"\S+|\s+", markdown)
    for piece in pieces[:words]:
        view.text(piece)
        time.sleep(pace)
    view.finish()
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def strip_blank_ends(rows: list[str]) -> list[str]:
    text = "\n".join(rows).strip("\n")
    return text.splitlines()


def test_answer_taller_than_the_screen_is_in_the_scrollback_once_and_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = strip_blank_ends(printed_at_once(ANSWER))
    assert len(expected) > 2 * HEIGHT  # the answer must scroll for this test to mean anything

    output = stream(ANSWER, monkeypatch, pace=0.005)  # a fast model: ~200 words a second

    seen = strip_blank_ends(terminal_rows(output, HEIGHT))

    assert seen == expected


def test_answer_cut_short_leaves_the_words_received_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    output = stream(ANSWER, monkeypatch, words=40)  # Ctrl-C after 40 pieces: view.finish() runs

    seen = strip_blank_ends(terminal_rows(output, HEIGHT))

    partial = "".join(re.findall(r"\S+|\s+", ANSWER)[:40])
    assert seen == strip_blank_ends(printed_at_once(partial))
    assert "snapshots" in "\n".join(seen)


def test_answer_lines_end_at_their_last_word_so_a_narrower_terminal_does_not_re_wrap_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    output = stream("Restic runs nightly [1].\n\n- seven daily\n- five weekly\n", monkeypatch)

    assert "Restic runs nightly [1]." in output
    assert re.search(r" +[\r\n]", output) is None


def test_thoughts_stay_on_screen_above_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    console = terminal()  # stdout and stderr are the same terminal
    monkeypatch.setattr(render, "out", lambda: console)
    monkeypatch.setattr(render, "err", lambda: console)
    view = render.AnswerView(show_thinking=True)
    for word in ["The ", "note ", "says ", "02:30."]:
        view.thinking(word)
    for word in ["Restic ", "runs ", "nightly ", "[1]."]:
        view.text(word)
    view.finish()
    assert isinstance(console.file, io.StringIO)

    seen = strip_blank_ends(terminal_rows(console.file.getvalue(), HEIGHT))

    assert seen == ["The note says 02:30.", "Restic runs nightly [1]."]


def test_sources_snippets_wrap_under_their_indent(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmorch.workflows.citations import Source

    console = terminal()
    monkeypatch.setattr(render, "out", lambda: console)
    snippet = "Restic runs nightly at 02:30 and keeps seven daily and five weekly snapshots."
    source = Source(
        n=1,
        path="Backup strategy.md",
        title="Backup strategy",
        heading="Schedule",
        score=1.0,
        snippet=snippet,
        cited=True,
    )
    render.sources([source], with_snippets=True)
    assert isinstance(console.file, io.StringIO)

    rows = strip_blank_ends(terminal_rows(console.file.getvalue(), HEIGHT))

    assert rows[:2] == ["Sources:", "[1] Backup strategy.md#Schedule"]
    assert len(rows) > 3 and all(row.startswith("    ") for row in rows[2:])
    assert " ".join(row.strip() for row in rows[2:]) == snippet
