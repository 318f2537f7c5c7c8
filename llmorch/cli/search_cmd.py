"""`llmorch search`: retrieval only, no model needed; hits as a table or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from llmorch.cli import render
from llmorch.cli.options import CollectionOption, TagsOption
from llmorch.cli.state import AppState
from llmorch.retrieval.tags import split_tags

if TYPE_CHECKING:
    from llmorch.config import Settings
    from llmorch.retrieval.hits import SearchHit


def search(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Argument(help="What to look for.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="Hits to show.")] = 8,
    tags: TagsOption = None,
    all_tags: Annotated[
        bool, typer.Option("--all-tags", help="Only notes with every --tags tag, not just one.")
    ] = False,
    path_prefix: Annotated[
        str | None,
        typer.Option(
            "--path",
            metavar="FOLDER",
            help="Only notes under FOLDER of the vault, e.g. projects/.",
        ),
    ] = None,
    related: Annotated[
        str | None,
        typer.Option(
            "--related",
            metavar="NOTE",
            help="List the notes NOTE links to and the notes linking to it (path, name, title "
            "or alias) instead of searching.",
        ),
    ] = None,
    collection: CollectionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Search the indexed notes (BM25, plus dense vectors when an embedder is configured).

    Example: llmorch search "backup schedule" --tags homelab --limit 5
    Example: llmorch search "goals" --path projects/ --tags project,llm --all-tags
    Example: llmorch search --related "Backup strategy"
    """
    import asyncio

    from llmorch.retrieval.hits import SearchRequest
    from llmorch.workflows.runtime import Runtime

    state = ctx.ensure_object(AppState)
    settings = state.settings
    if related is not None:
        _show_related(settings, related, collection, as_json)
        return
    if query is None or not query.strip():
        raise typer.BadParameter("give something to look for", param_hint="QUERY")
    request = SearchRequest(
        query=query.strip(),
        limit=limit,
        tags=split_tags(tags),
        tag_mode="all" if all_tags else "any",
        path_prefix=path_prefix,
        linked_notes=0,  # a search lists matches; linked notes are context for answers
    )

    async def run() -> list[SearchHit]:
        opened = state.opened_index()
        async with Runtime(settings, collection=collection, opened_index=opened) as runtime:
            return await runtime.search(request)

    hits = asyncio.run(run())
    if as_json:
        render.print_json([hit.model_dump(exclude={"text"}) for hit in hits])
        return
    render.hits_table(hits, query)


def _show_related(settings: Settings, note: str, collection: str | None, as_json: bool) -> None:
    from llmorch.retrieval.knowledge import KnowledgeBase

    kb = KnowledgeBase.open(settings, collection=collection)
    try:
        related = kb.related(note)
    finally:
        kb.close()
    if as_json:
        render.print_json([r.model_dump() for r in related])
        return
    render.related_notes(note, related)
