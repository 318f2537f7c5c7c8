"""The chat session against a real edge index and the scripted model server, without a terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scripted_llm import Reply, ScriptedLlm

from llmorch.config import load_config
from llmorch.workflows.chat import ChatSession, SessionStore
from llmorch.workflows.runtime import Runtime


@pytest.fixture
def runtime(config: Path, indexed: Path) -> Runtime:
    return Runtime(load_config(config).settings)


async def test_follow_up_questions_carry_the_earlier_turns(
    runtime: Runtime, llm: ScriptedLlm, tmp_path: Path
) -> None:
    async with runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
        await session.ask("when does restic run?")
        second = await session.ask("and on weekends?")
    sent = llm.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "when does restic run?"  # history keeps the bare question
    assert second.answer.startswith("Turn 2")


async def test_every_answer_is_saved_and_the_latest_session_resumes(
    runtime: Runtime, llm: ScriptedLlm, tmp_path: Path
) -> None:
    store = SessionStore(tmp_path / "sessions")
    async with runtime:
        session = ChatSession(runtime, store)
        await session.ask("when does restic run?")
    saved = store.latest()
    assert saved is not None and saved.id == session.state.id
    assert len(saved.messages) == 2
    assert saved.sources[0].path == "Backup strategy.md"
    async with runtime:
        resumed = ChatSession(runtime, store, saved=saved)
        answer = await resumed.ask("more?")
    assert answer.answer.startswith("Turn 2")


async def test_a_resumed_session_keeps_its_tag_filter_unless_new_tags_are_given(
    runtime: Runtime, llm: ScriptedLlm, tmp_path: Path
) -> None:
    store = SessionStore(tmp_path / "sessions")
    async with runtime:
        await ChatSession(runtime, store, tags=["garden"]).ask("what needs water?")
        saved = store.latest()
        assert saved is not None and saved.tags == ["garden"]
        resumed = ChatSession(runtime, store, saved=saved)
        answer = await resumed.ask("restic tomatoes")
        assert {s.path for s in answer.sources} == {"Garden.md"}
        retagged = ChatSession(runtime, store, tags=["backup"], saved=store.latest())
        assert retagged.state.tags == ["backup"]


async def test_a_cancelled_answer_leaves_the_conversation_unchanged(
    runtime: Runtime, llm: ScriptedLlm, tmp_path: Path
) -> None:
    llm.chunk_delay = 0.2
    async with runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
        started = asyncio.Event()
        task = asyncio.create_task(session.ask("slow one", on_delta=lambda _: started.set()))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert session.messages == []
        llm.chunk_delay = 0.0
        assert (await session.ask("again")).answer.startswith("Turn 1")


async def test_a_failed_answer_is_not_added_and_the_index_is_released(
    runtime: Runtime, llm: ScriptedLlm, tmp_path: Path
) -> None:
    from llmorch.errors import LlmError
    from llmorch.retrieval.knowledge import KnowledgeBase

    llm.replies.append(Reply(error_status=500))
    async with runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
        with pytest.raises(LlmError):
            await session.ask("x")
        assert session.messages == []
        # The index lock is free between turns: another process (an ingest) could open it now.
        KnowledgeBase.open(runtime.settings).close()


async def test_reset_starts_a_new_session(runtime: Runtime, tmp_path: Path) -> None:
    async with runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
        await session.ask("q")
        first_id = session.state.id
        session.reset()
    assert session.messages == [] and session.state.id != first_id


async def test_switching_model_applies_from_the_next_question(
    config: Path, indexed: Path, llm: ScriptedLlm, tmp_path: Path
) -> None:
    async with Runtime(load_config(config).settings, model="started-with") as runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
        await session.ask("first")
        await session.set_model("scripted-model")  # the one model the server lists
        await session.ask("second")
    assert [r["model"] for r in llm.requests] == ["started-with", "scripted-model"]
    assert session.state.model == "scripted-model"


async def test_a_model_the_server_does_not_offer_is_refused_and_the_old_one_kept(
    runtime: Runtime, llm: ScriptedLlm, tmp_path: Path
) -> None:
    from llmorch.errors import LlmError

    async with runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
        with pytest.raises(LlmError, match=r"'no-such-model' is not available.*scripted-model"):
            await session.set_model("no-such-model")
        await session.ask("still answered?")
    assert session.state.model is None
    assert [r["model"] for r in llm.requests] == ["scripted-model"]
