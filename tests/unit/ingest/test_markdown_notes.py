"""Obsidian markdown parsing: what a user writes in a note is what ends up as tags, links, title."""

from __future__ import annotations

from llmorch.ingest.markdown import parse_note, with_parent_tags


def test_frontmatter_and_inline_tags_merge_lowercased_without_duplicates() -> None:
    note = parse_note(
        "---\ntags: [Project, '#idea']\n---\nBody with #idea and #Nested/Tag and #project.\n",
        "f",
    )
    assert note.tags == ["project", "idea", "nested/tag"]


def test_frontmatter_tags_may_be_a_space_or_comma_separated_string() -> None:
    assert parse_note("---\ntags: a, b c\n---\ntext\n", "f").tags == ["a", "b", "c"]


def test_tags_inside_code_urls_and_numbers_are_not_tags() -> None:
    body = (
        "Issue #123 fixed; see https://example.com/page#anchor and `#inline`.\n\n"
        "```python\n# comment #incode\n```\n\n# Heading is not a tag\n\nReal #tag here.\n"
    )
    assert parse_note(body, "f").tags == ["tag"]


def test_wikilinks_with_alias_heading_and_embeds_give_their_target() -> None:
    body = (
        "See [[Other Note|the other]], [[Plans#Q3]], ![[diagram.png]], [[Plans]] again "
        "and a table cell [[Table Note\\|alias]].\n\n```\n[[not a link]]\n```\n"
    )
    assert parse_note(body, "f").links == ["Other Note", "Plans", "diagram.png", "Table Note"]


def test_aliases_keep_their_case_and_spaces() -> None:
    note = parse_note("---\naliases: [My Alias, other]\nalias: Single One\n---\nx\n", "f")
    assert note.aliases == ["My Alias", "other", "Single One"]


def test_title_comes_from_frontmatter_then_first_h1_then_file_name() -> None:
    assert parse_note("---\ntitle: From YAML\n---\n# From H1\n", "file").title == "From YAML"
    assert parse_note("## Not H1\n\n# From H1\n", "file").title == "From H1"
    assert parse_note("```\n# code, not a title\n```\n", "file").title == "file"


def test_broken_yaml_is_reported_and_the_body_still_parsed() -> None:
    note = parse_note("---\ntags: [unclosed\n---\n# Title\n\nBody #kept\n", "f")
    assert note.frontmatter_error is not None
    assert "YAML" in note.frontmatter_error
    assert note.body.startswith("# Title")
    assert note.title == "Title"
    assert note.tags == ["kept"]


def test_dates_stay_text_so_an_impossible_date_keeps_the_rest_of_the_frontmatter() -> None:
    note = parse_note("---\ntitle: 2024-01-02\ndate: 2024-13-45\ntags: [diary]\n---\nx\n", "f")
    assert (note.title, note.tags, note.frontmatter_error) == ("2024-01-02", ["diary"], None)


def test_a_malformed_typed_value_is_broken_yaml_not_a_crash() -> None:
    for value in ("!!float abc", "!!bool maybe", "!!int 0b"):
        note = parse_note(f"---\nx: {value}\n---\nBody #kept\n", "f")
        assert note.frontmatter_error is not None and "YAML" in note.frontmatter_error, value
        assert note.tags == ["kept"]


def test_a_note_without_frontmatter_is_all_body() -> None:
    note = parse_note("just text\n", "f")
    assert (note.body, note.frontmatter_error, note.tags) == ("just text", None, [])


def test_a_nested_tag_also_counts_for_its_parents() -> None:
    assert with_parent_tags(["homelab/backup/offsite", "llm", "homelab/network"]) == [
        "homelab/backup/offsite",
        "homelab/backup",
        "homelab",
        "llm",
        "homelab/network",
    ]
