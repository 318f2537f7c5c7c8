"""Heading-aware chunking: sections, a size bound with overlap, and code fences never split."""

from __future__ import annotations

import itertools

from llmorch.ingest.chunking import chunk_markdown


def test_each_chunk_carries_its_heading_path() -> None:
    body = "intro\n\n# A\n\na text\n\n## B\n\nb text\n\n### C\n\nc text\n\n## D\n\nd text\n\n# E\n\ne\n"
    chunks = chunk_markdown(body, size=500, overlap=0)
    assert [(c.heading, c.text) for c in chunks] == [
        ("", "intro"),
        ("A", "a text"),
        ("A > B", "b text"),
        ("A > B > C", "c text"),
        ("A > D", "d text"),
        ("E", "e"),
    ]


def test_long_sections_are_split_within_the_size_bound_with_overlap() -> None:
    paragraphs = [f"Paragraph {i} says something quite unremarkable here." for i in range(40)]
    chunks = chunk_markdown("# Long\n\n" + "\n\n".join(paragraphs), size=300, overlap=60)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.heading == "Long" for c in chunks)
    for before, after in itertools.pairwise(chunks):
        head = after.text.split("\n\n")[0]
        assert before.text.endswith(head), "the next chunk starts with the previous one's tail"
    joined = " ".join(c.text for c in chunks)
    assert all(p in joined for p in paragraphs)


def test_a_single_huge_paragraph_is_split_at_sentences_then_words() -> None:
    sentence = "This sentence has exactly eight words in it. "
    chunks = chunk_markdown(sentence * 60 + "x" * 700, size=250, overlap=30)
    assert all(len(c.text) <= 250 for c in chunks)
    assert sum(c.text.count("x") for c in chunks) >= 700


def test_code_blocks_are_never_split_even_when_longer_than_the_bound() -> None:
    code = (
        "```python\n" + "\n".join(f"line_{i} = {i}" for i in range(80)) + "\n\n# not a heading\n```"
    )
    body = "# Code\n\nBefore the code.\n\n" + code + "\n\nAfter the code.\n"
    chunks = chunk_markdown(body, size=200, overlap=50)
    holding = [c for c in chunks if "line_0 =" in c.text]
    assert len(holding) == 1
    assert code in holding[0].text
    assert all(c.text.count("```") % 2 == 0 for c in chunks)
    assert all(c.heading == "Code" for c in chunks)


def test_tilde_fences_and_an_unclosed_fence_stay_whole() -> None:
    body = "~~~\n# inside tilde fence\n~~~\n\ntext\n\n```\nunclosed\n\n# still code\n"
    chunks = chunk_markdown(body, size=500, overlap=0)
    assert [c.heading for c in chunks] == [""]
    assert "# still code" in chunks[0].text


def test_headings_without_text_produce_no_chunks() -> None:
    assert chunk_markdown("# A\n## B\n### C\n", size=500, overlap=0) == []
