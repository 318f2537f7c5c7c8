"""search_knowledge_base over a small in-test index, read_note over real files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmorch.config import Settings
from llmorch.errors import ToolError
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.tools.defaults import build_default_registry
from llmorch.tools.notes import read_note_tool


class TinyIndex:
    """A KnowledgeSearch over a few hits: matches on words of the query, filters on tags."""

    def __init__(self, hits: list[SearchHit]) -> None:
        self.hits = hits
        self.requests: list[SearchRequest] = []

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        self.requests.append(request)
        words = request.query.lower().split()
        found = [
            h
            for h in self.hits
            if any(w in h.text.lower() for w in words)
            and (not request.tags or set(request.tags) & set(h.tags))
        ]
        return found[: request.limit]


HITS = [
    SearchHit(
        path="projects/tea.md",
        title="Tea",
        heading="Brewing",
        snippet="green tea at 80°C",
        text="Brew green tea at 80°C for two minutes.",
        score=0.91234567,
        tags=["drinks"],
    ),
    SearchHit(
        path="journal/2024-05-01.md",
        title="Journal",
        heading="",
        snippet="coffee",
        text="Decided to drink less coffee and more tea.",
        score=0.5,
        tags=["journal"],
    ),
]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / "projects").mkdir(parents=True)
    (root / "projects" / "tea.md").write_text(
        "# Tea\n\nBrew green tea at 80°C.\n", encoding="utf-8"
    )
    (tmp_path / "secret.txt").write_text("api_key=hunter2", encoding="utf-8")
    return root


@pytest.fixture
def settings(vault: Path) -> Settings:
    return Settings.model_validate(
        {"ingest": {"paths": [str(vault)]}, "tools": {"max_result_chars": 2000}}
    )


async def test_default_registry_has_the_search_and_read_tools(settings: Settings) -> None:
    registry = build_default_registry(settings, TinyIndex(HITS))
    assert registry.names() == ["search_knowledge_base", "read_note"]
    assert registry.max_result_chars == 2000


async def test_search_passes_query_limit_tags_and_collection_and_returns_citable_passages(
    settings: Settings,
) -> None:
    index = TinyIndex(HITS)
    registry = build_default_registry(settings, index)
    result = await registry.call(
        "search_knowledge_base",
        {"query": "tea", "limit": 5, "tags": ["#drinks"], "collection": "notes"},
    )
    assert result.ok, result.error
    assert index.requests == [
        SearchRequest(query="tea", limit=5, tags=["drinks"], collection="notes")
    ]
    passages = json.loads(result.content)
    assert passages == [
        {
            "source": "projects/tea.md#Brewing",
            "title": "Tea",
            "score": 0.9123,
            "tags": ["drinks"],
            "text": "Brew green tea at 80°C for two minutes.",
        }
    ]


async def test_search_with_an_empty_query_is_rejected_before_searching(settings: Settings) -> None:
    index = TinyIndex(HITS)
    result = await build_default_registry(settings, index).call(
        "search_knowledge_base", {"query": ""}
    )
    assert not result.ok
    assert (
        result.error is not None
        and "query: String should have at least 1 character" in result.error
    )
    assert index.requests == []


async def test_read_note_reads_by_relative_path_title_or_citation(vault: Path) -> None:
    reader = read_note_tool([vault])
    for path in (
        "projects/tea.md",
        "projects/tea",
        "projects/tea.md#Brewing",
        str(vault / "projects/tea.md"),
    ):
        args = reader.validate({"path": path})
        assert await reader.invoke(args) == "# Tea\n\nBrew green tea at 80°C.\n", path


@pytest.mark.parametrize("path", ["../secret.txt", "projects/../../secret.txt"])
async def test_read_note_refuses_path_traversal_out_of_the_roots(vault: Path, path: str) -> None:
    registry = build_default_registry(
        Settings.model_validate({"tools": {"note_roots": [str(vault)]}}), TinyIndex([])
    )
    result = await registry.call("read_note", {"path": path})
    assert not result.ok
    assert (
        result.error == f"read_note only reads files inside the note folders; {path!r} is outside"
    )
    assert "hunter2" not in result.content


async def test_read_note_refuses_an_absolute_path_outside_the_roots(vault: Path) -> None:
    registry = build_default_registry(
        Settings.model_validate({"tools": {"note_roots": [str(vault)]}}), TinyIndex([])
    )
    result = await registry.call("read_note", {"path": str(vault.parent / "secret.txt")})
    assert not result.ok and "is outside" in (result.error or "")


async def test_read_note_refuses_a_symlink_that_points_out_of_the_roots(vault: Path) -> None:
    (vault / "innocent.md").symlink_to(vault.parent / "secret.txt")
    (vault / "escape").symlink_to(vault.parent)
    registry = build_default_registry(
        Settings.model_validate({"tools": {"note_roots": [str(vault)]}}), TinyIndex([])
    )
    for path in ("innocent.md", "escape/secret.txt"):
        result = await registry.call("read_note", {"path": path})
        assert not result.ok, path
        assert "is outside" in (result.error or "")
        assert "hunter2" not in result.content


async def test_read_note_follows_a_symlink_that_stays_inside_the_roots(vault: Path) -> None:
    (vault / "alias.md").symlink_to(vault / "projects" / "tea.md")
    reader = read_note_tool([vault])
    assert "Brew green tea" in await reader.invoke(reader.validate({"path": "alias.md"}))


async def test_read_note_of_a_missing_note_says_so(vault: Path) -> None:
    registry = build_default_registry(
        Settings.model_validate({"tools": {"note_roots": [str(vault)]}}), TinyIndex([])
    )
    result = await registry.call("read_note", {"path": "projects/coffee.md"})
    assert result.error == "no note at 'projects/coffee.md' in the note folders"


async def test_read_note_without_configured_roots_says_which_setting_to_set() -> None:
    registry = build_default_registry(Settings(), TinyIndex([]))
    result = await registry.call("read_note", {"path": "a.md"})
    assert result.error is not None
    assert "no folders to read from" in result.error
    assert "tools.note_roots" in result.error


async def test_read_note_finds_a_note_by_its_bare_name_in_any_folder_like_a_wikilink(
    vault: Path,
) -> None:
    reader = read_note_tool([vault])
    for path in ("tea", "Tea.md", "[[tea]]", "[[Tea|my tea notes]]", "tea#Brewing"):
        args = reader.validate({"path": path})
        assert await reader.invoke(args) == "# Tea\n\nBrew green tea at 80°C.\n", path


async def test_read_note_by_a_name_two_notes_share_lists_both_instead_of_guessing(
    vault: Path,
) -> None:
    (vault / "archive").mkdir()
    (vault / "archive" / "tea.md").write_text("old tea notes", encoding="utf-8")
    registry = build_default_registry(
        Settings.model_validate({"tools": {"note_roots": [str(vault)]}}), TinyIndex([])
    )
    result = await registry.call("read_note", {"path": "tea"})
    assert not result.ok
    assert result.error is not None
    assert "'tea' names 2 notes" in result.error
    assert "archive/tea.md" in result.error and "projects/tea.md" in result.error


async def test_read_note_by_name_skips_obsidian_trash_and_links_out_of_the_roots(
    vault: Path,
) -> None:
    (vault / ".trash").mkdir()
    (vault / ".trash" / "coffee.md").write_text("deleted", encoding="utf-8")
    (vault.parent / "leak.md").write_text("api_key=hunter2", encoding="utf-8")
    (vault / "projects" / "leak.md").symlink_to(vault.parent / "leak.md")
    registry = build_default_registry(
        Settings.model_validate({"tools": {"note_roots": [str(vault)]}}), TinyIndex([])
    )
    for name in ("coffee", "leak"):
        result = await registry.call("read_note", {"path": name})
        assert not result.ok, name
        assert result.error == f"no note at {name!r} in the note folders"
        assert "hunter2" not in result.content


async def test_search_reads_tags_given_as_one_string_as_a_list(settings: Settings) -> None:
    index = TinyIndex(HITS)
    registry = build_default_registry(settings, index)
    result = await registry.call("search_knowledge_base", {"query": "tea", "tags": "#drinks, x"})
    assert result.ok, result.error
    assert index.requests[0].tags == ["drinks", "x"]
    schema = registry.get("search_knowledge_base").definition().parameters
    assert schema["properties"]["tags"]["type"] == "array"


async def test_read_note_reads_only_markdown_notes_outside_hidden_folders(vault: Path) -> None:
    (vault / ".git").mkdir()
    (vault / ".git" / "config").write_text("url = https://token@host/repo\n", encoding="utf-8")
    (vault / ".obsidian").mkdir()
    (vault / ".obsidian" / "plugin.md").write_text("api token hunter2\n", encoding="utf-8")
    (vault / "notes.txt").write_text("hunter2\n", encoding="utf-8")
    reader = read_note_tool([vault])
    for path in (".git/config", ".obsidian/plugin.md", "notes.txt"):
        with pytest.raises(ToolError, match="only reads notes"):
            await reader.invoke(reader.validate({"path": path}))
