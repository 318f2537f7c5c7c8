"""Optional reranking: the first ranking's best hits reordered by a rerank endpoint over real HTTP
(a stand-in on 127.0.0.1: llama-cpp-python serves no /v1/rerank), and a clear error when it is down."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from rerank_server import RerankServer, overlap_score

from llmorch.config import RerankSettings, Settings, StoreSettings
from llmorch.errors import RetrievalError
from llmorch.ingest.sync import ingest
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase

NOTES = {
    "watering.md": "# Watering\n\nWater water water: the garden needs water every evening.\n",
    "roses.md": "# Roses\n\nWater the roses in the morning and prune them in late winter.\n",
    "tomatoes.md": "# Tomatoes\n\nTomatoes want water twice a week in July.\n",
    "backup.md": "# Backups\n\nRestic snapshots run nightly to the NAS.\n",
}
QUESTION = "when to water the roses in the morning"


async def indexed_settings(tmp_path: Path, rerank: RerankSettings | None) -> Settings:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, encoding="utf-8")
    settings = Settings(store=StoreSettings(path=tmp_path / "qdrant"), rerank=rerank)
    await ingest([vault], settings)
    return settings


async def search(settings: Settings, query: str, limit: int) -> list[SearchHit]:
    kb = KnowledgeBase.open(settings)
    try:
        return await kb.search(SearchRequest(query=query, limit=limit))
    finally:
        await kb.aclose()


async def test_reranking_reorders_the_candidates_by_the_endpoints_scores(
    tmp_path: Path, rerank_server: RerankServer
) -> None:
    rerank = RerankSettings(base_url=rerank_server.base_url, model="bge-reranker", candidates=3)
    settings = await indexed_settings(tmp_path, rerank)
    hits = await search(settings, QUESTION, limit=2)

    [sent] = rerank_server.requests
    assert (sent["model"], sent["query"], sent["top_n"]) == ("bge-reranker", QUESTION, 2)
    assert len(sent["documents"]) == 3, "candidates, not just the hits shown, are reranked"
    assert any(doc.startswith("Roses > Roses\n") for doc in sent["documents"])
    expected = sorted(sent["documents"], key=lambda d: overlap_score(QUESTION, d), reverse=True)
    assert [h.title for h in hits] == [doc.split(" > ")[0] for doc in expected[:2]]
    assert [h.score for h in hits] == [overlap_score(QUESTION, d) for d in expected[:2]]


async def test_a_bare_list_of_scores_is_read_as_text_embeddings_inference_sends_it(
    tmp_path: Path, rerank_server: RerankServer
) -> None:
    rerank_server.bare_list = True
    settings = await indexed_settings(tmp_path, RerankSettings(base_url=rerank_server.base_url))
    hits = await search(settings, QUESTION, limit=1)
    assert [h.path for h in hits] == ["roses.md"]
    assert "model" not in rerank_server.requests[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_rerank_endpoint_that_is_down_is_a_retrieval_error_naming_it(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = await indexed_settings(tmp_path, RerankSettings(base_url=url, timeout_s=2))
    with pytest.raises(RetrievalError) as caught:
        await search(settings, QUESTION, limit=2)
    assert f"the rerank endpoint {url}/rerank cannot be reached" in str(caught.value)
    assert "remove the `rerank` section" in (caught.value.hint or "")
    assert caught.value.exit_code == 6


async def test_a_failing_rerank_endpoint_reports_its_status(
    tmp_path: Path, rerank_server: RerankServer
) -> None:
    rerank_server.fail_with = 500
    settings = await indexed_settings(tmp_path, RerankSettings(base_url=rerank_server.base_url))
    with pytest.raises(RetrievalError, match=r"/v1/rerank answered 500"):
        await search(settings, QUESTION, limit=2)
