from __future__ import annotations

import re

from llmorch.retrieval.hits import SearchHit
from llmorch.workflows.citations import (
    CitationStream,
    SourceList,
    cited_numbers,
    mark_cited,
    number_citations,
    passages_block,
)


def hit(path: str, heading: str = "", chunk: int = 0, text: str = "body") -> SearchHit:
    return SearchHit(
        path=path,
        title=path,
        heading=heading,
        snippet=text,
        text=text,
        score=1.0,
        chunk_index=chunk,
    )


def test_the_same_chunk_found_twice_keeps_its_first_number() -> None:
    sources = SourceList()
    sources.add([hit("a.md", "A"), hit("b.md")])
    again = sources.add([hit("b.md"), hit("c.md", "C")])
    assert [s.n for s in again] == [2, 3]
    assert [s.citation for s in sources.sources] == ["a.md#A", "b.md", "c.md#C"]


def test_passages_are_numbered_with_where_they_come_from() -> None:
    sources = SourceList().add([hit("a.md", "Setup > Install", text="  pip install x \n")])
    assert passages_block(sources) == "[1] a.md#Setup > Install\npip install x"


def test_cited_numbers_reads_single_and_grouped_marks() -> None:
    assert cited_numbers("Yes [1], and also [2, 4]. Not [x] or [].") == {1, 2, 4}


def test_mark_cited_flags_only_the_sources_the_answer_points_at() -> None:
    sources = SourceList().add([hit("a.md"), hit("b.md")])
    assert [s.cited for s in mark_cited(sources, "see [2]")] == [False, True]


def test_marks_naming_a_source_become_its_number_but_links_and_unknowns_stay() -> None:
    sources = SourceList().add([hit("a.md", "Setup"), hit("b.md", "Other")])
    answer = "Install it [a.md#Setup] then [b.md]; see [docs](http://x) and [nope.md]."
    assert number_citations(answer, sources) == (
        "Install it [1] then [2]; see [docs](http://x) and [nope.md]."
    )


def test_streamed_marks_are_renumbered_even_when_split_across_deltas() -> None:
    sources = SourceList()
    sources.add([hit("notes/a.md", "Setup")])
    stream = CitationStream(sources)
    shown = [stream.feed(part) for part in ["Run it nightly [no", "tes/a.md#Se", "tup]. Done"]]
    shown.append(stream.flush())
    assert shown == ["Run it nightly ", "", "[1]. Done", ""]


def test_an_unclosed_bracket_is_released_at_the_end() -> None:
    stream = CitationStream(SourceList())
    assert stream.feed("array [0") == "array "
    assert stream.flush() == "[0"


def test_marks_naming_a_note_by_title_last_heading_or_wikilink_become_its_number() -> None:
    sources = SourceList()
    sources.add([hit("notes/Backup plan.md", "Backup plan > Retention"), hit("b.md", "Other")])
    answer = (
        "Keep 7 [notes/Backup plan.md#Retention], [[notes/Backup plan|the plan]], "
        "[notes/backup plan.md]; also [[b#Other]] and [b.md#other]."
    )
    assert number_citations(answer, sources.sources) == ("Keep 7 [1], [1], [1]; also [2] and [2].")


def test_a_number_mark_stays_that_number_even_when_a_note_has_that_name() -> None:
    sources = SourceList()
    sources.add([hit("a.md"), hit("3.md"), hit("c.md")])
    assert number_citations("see [3], not [3.md]", sources.sources) == "see [3], not [2]"


def test_unknown_names_stay_as_written_and_numbers_no_source_has_are_dropped() -> None:
    sources = SourceList()
    sources.add([hit("a.md", "Setup")])
    answer = "See [9], [[Elsewhere]], arr[0] and [a.md](a.md)."
    numbered = number_citations(answer, sources.sources)
    assert numbered == "See, [[Elsewhere]], arr[0] and [a.md](a.md)."
    assert not any(s.cited for s in mark_cited(sources.sources, numbered))


def test_a_streamed_wikilink_is_held_whole_and_numbered() -> None:
    sources = SourceList()
    sources.add([hit("notes/a.md", "Setup")])
    stream = CitationStream(sources)
    shown = [stream.feed(part) for part in ["As noted [", "[notes/a", "#Setup]", "]. Done"]]
    assert "".join(shown) + stream.flush() == "As noted [1]. Done"


def test_the_agent_prompt_asks_for_marks_that_are_turned_into_numbers() -> None:
    from llmorch.workflows.prompts import AGENT_SYSTEM

    (example,) = re.findall(r"\[[^\]]+\]", AGENT_SYSTEM)
    # Search results carry sources, not numbers: asking the model for [1] would make it count.
    assert not cited_numbers(example)
    sources = SourceList()
    sources.add([hit("projects/tea.md", "Brewing")])
    assert number_citations(f"Brew at 80C {example}.", sources.sources) == "Brew at 80C [1]."


def test_equal_paths_from_two_ingested_folders_are_two_sources() -> None:
    sources = SourceList()
    work, home = hit("todo.md"), hit("todo.md")
    work.root, home.root = "/notes/work", "/notes/home"
    numbered = sources.add([work, home])
    assert [(s.n, s.root) for s in numbered] == [(1, "/notes/work"), (2, "/notes/home")]
