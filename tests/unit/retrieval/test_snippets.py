"""Citation snippets: short, on word edges, and showing where the query matched."""

from __future__ import annotations

from llmorch.retrieval.snippet import make_snippet


def test_short_text_is_returned_whole_with_whitespace_flattened() -> None:
    assert make_snippet("a  short\n\ntext", "query") == "a short text"


def test_long_text_is_cut_around_the_first_query_word_on_word_edges() -> None:
    text = " ".join(f"filler{i}" for i in range(200)) + " the zeppelin landed " + "tail " * 100
    snippet = make_snippet(text, "Zeppelin landing", width=80)
    assert "zeppelin" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= 82
    assert all(
        word.startswith(("filler", "the", "zeppelin", "landed", "tail"))
        for word in snippet.strip("…").split()
    )


def test_without_a_match_the_snippet_is_the_start() -> None:
    snippet = make_snippet("word " * 100, "absent", width=40)
    assert snippet.startswith("word") and snippet.endswith("…")


def test_the_window_with_the_telling_words_wins_over_an_early_common_word() -> None:
    text = (
        "Other notes: " + "filler " * 100 + "the UPS battery lasts twelve minutes. " + "tail " * 100
    )
    snippet = make_snippet(text, "how long does the UPS battery last", width=80)
    assert "UPS battery lasts" in snippet
    assert "Other" not in snippet


def test_query_words_match_at_word_starts_only() -> None:
    text = "The groups met. " + "filler " * 100 + "Power: UPS in the rack. " + "tail " * 100
    assert "UPS in the rack" in make_snippet(text, "ups", width=60)
