"""Markdown as Telegram HTML, judged by the stand-in's copy of Telegram's rules, and cut into
messages Telegram accepts."""

from __future__ import annotations

import pytest
from bot_api_standin import TEXT_LIMIT, TelegramHtml

from llmorch.channels.telegram.markup import split_message, to_html

ANSWERS = [
    "# Backups\n\nRestic runs **nightly** at _02:30_ [1].",
    "Use `restic snapshots` & check <output> with ~~cron~~ systemd.",
    "- first\n- second\n  1. nested\n  2. list\n\n> a quote\n> on two lines",
    "```sh\nrestic backup ~/vault --tag <nightly> && echo done\n```",
    "**never closed <b>raw</b> & `open code [link](x",
    '[the docs](https://restic.net/?a=1&b="2") and ![img](pic.png)',
    "<script>alert(1)</script>\n\n<div>block html</div>",
]


@pytest.mark.parametrize("markdown", ANSWERS)
def test_every_rendering_is_html_telegram_accepts(markdown: str) -> None:
    visible = TelegramHtml.visible_text(to_html(markdown))
    assert visible.strip()


def test_markup_becomes_telegram_tags_and_text_stays_text() -> None:
    html = to_html("# Backups\n\nRestic runs **nightly**, `restic check` weekly & <never> [1].")
    assert html == (
        "<b>Backups</b>\n\nRestic runs <b>nightly</b>, <code>restic check</code> weekly "
        "&amp; &lt;never&gt; [1]."
    )


def test_lists_keep_their_numbers_and_nesting() -> None:
    html = to_html("3. third\n4. fourth\n   - inner\n")
    assert html == "3. third\n4. fourth\n  • inner"


def test_code_blocks_keep_their_language_and_escape_their_text() -> None:
    html = to_html("```python\nif a < b:\n    pass\n```")
    assert html == '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>'


def test_a_long_answer_splits_at_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + " ".join(["words"] * 150) for i in range(12)]
    pieces = split_message("\n\n".join(paragraphs), limit=2000)
    assert all(len(p) <= 2000 for p in pieces)
    assert all(p.startswith("Paragraph") for p in pieces)
    assert "\n\n".join(pieces).split("\n\n") == paragraphs


def test_a_paragraph_longer_than_a_message_splits_between_words() -> None:
    pieces = split_message("word " * 2000, limit=1000)
    assert all(len(p) <= 1000 and not p.startswith(" ") for p in pieces)
    assert " ".join(pieces).split() == ["word"] * 2000


def test_a_code_block_cut_in_two_is_closed_and_reopened() -> None:
    text = "Here:\n\n```python\n" + "print('x')\n" * 300 + "```\n\nDone."
    pieces = split_message(text, limit=1500)
    assert len(pieces) > 2
    for piece in pieces[:-1]:
        assert piece.count("```") % 2 == 0, piece[-40:]
    assert pieces[1].startswith("```python\n")
    for piece in pieces:
        assert len(TelegramHtml.visible_text(to_html(piece))) <= TEXT_LIMIT


def test_text_without_boundaries_is_cut_hard() -> None:
    assert [len(p) for p in split_message("x" * 2500, limit=1000)] == [992, 992, 516]
