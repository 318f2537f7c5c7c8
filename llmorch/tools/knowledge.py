"""`search_knowledge_base`: the model's way into the indexed notes, over any KnowledgeSearch."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from llmorch.retrieval.hits import KnowledgeSearch, SearchRequest
from llmorch.tools.base import Tool, tool


class FoundPassage(BaseModel):
    """One hit as the model sees it: where it is (to cite), how well it matched, the text."""

    source: str
    title: str
    score: float
    tags: list[str]
    text: str


def _tag_list(value: object) -> object:
    """Small models often send tags as one string ("homelab, backups"): read it as a list."""
    return tuple(t for t in re.split(r"[,\s]+", value) if t) if isinstance(value, str) else value


def knowledge_tool(knowledge: KnowledgeSearch, *, default_limit: int = 6) -> Tool:
    """The search tool bound to one KnowledgeSearch (the real index, or a test double)."""

    @tool(read_only=True)
    async def search_knowledge_base(
        query: Annotated[str, Field(min_length=1)],
        limit: Annotated[int, Field(ge=1, le=20)] = default_limit,
        tags: Annotated[tuple[str, ...], BeforeValidator(_tag_list)] = (),
        collection: str | None = None,
    ) -> list[FoundPassage]:
        """Search the user's notes and return the most relevant passages with their sources.
        Use it for any question about the user's own notes, decisions or projects.

        Args:
            query: What to look for, in a few words or a question.
            limit: How many passages to return.
            tags: Only notes with any of these tags (without '#').
            collection: Which index to search; leave unset for the default.
        """
        request = SearchRequest(
            query=query,
            limit=limit,
            tags=[t.lstrip("#") for t in tags],
            collection=collection,
        )
        hits = await knowledge.search(request)
        return [
            FoundPassage(
                source=hit.citation(),
                title=hit.title,
                score=round(hit.score, 4),
                tags=hit.tags,
                text=hit.text,
            )
            for hit in hits
        ]

    return search_knowledge_base
