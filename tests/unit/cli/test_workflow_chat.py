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


def test_tags_are_read_as_typed_and_a_dash_clears_them(runtime: Runtime, tmp_path: Path) -> None:
    session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
    session.set_tags("#homelab, backup nas")
    assert session.state.tags == ["homelab", "backup", "nas"]
    session.set_tags(" - ")
    assert session.state.tags == []


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


async def test_the_alias_of_the_model_in_use_is_accepted_though_the_server_lists_a_file_name(
    config: Path, indexed: Path, llm: ScriptedLlm, tmp_path: Path
) -> None:
    settings = load_config(config, {"llm": {"model": "smollm2"}}).settings
    async with Runtime(settings) as runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"))
        await session.set_model("smollm2")  # the server lists only "scripted-model"
        await session.ask("q")
    assert session.state.model == "smollm2"
    assert [r["model"] for r in llm.requests] == ["smollm2"]


async def test_named_sessions_save_load_rename_and_list(runtime: Runtime, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    async with runtime:
        session = ChatSession(runtime, store)
        await session.ask("when does restic run?")
        path = store.rename(session.state, "backups")
        assert path.name == "backups.json"
        assert [p.name for p in store.directory.iterdir()] == ["backups.json"]  # no id copy
        store.rename(session.state, "restic")
        loaded = store.load("restic")
    assert loaded is not None and loaded.messages == session.messages
    assert store.load("backups") is None
    assert [s.name for s in store.sessions()] == ["restic"]


def test_a_session_name_cannot_leave_the_sessions_folder(tmp_path: Path) -> None:
    from llmorch.errors import ConfigError

    with pytest.raises(ConfigError, match="invalid session name"):
        SessionStore(tmp_path / "sessions").load("../config")


async def test_sessions_are_private_files_in_a_private_folder(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir(mode=0o755)  # as an earlier version left it
    async with runtime:
        await ChatSession(runtime, SessionStore(folder)).ask("private question")
    (file,) = folder.glob("*.json")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert file.stat().st_mode & 0o777 == 0o600


async def test_a_conversation_too_long_for_the_context_is_compressed_with_a_notice(
    config: Path, llm: ScriptedLlm, tmp_path: Path
) -> None:
    settings = load_config(config, {"llm": {"context_length": 1024}}).settings
    notices: list[str] = []
    async with Runtime(settings) as runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"), mode="plain")
        for n in range(4):
            await session.ask(f"fact {n}: " + "the quick brown fox " * 40, on_status=notices.append)
    assert len(notices) >= 1 and "compressed" in notices[0] and "1024-token" in notices[0]
    summarise = [r for r in llm.requests if "Summarise" in r["messages"][0]["content"]]
    assert summarise and "fact 0" in summarise[0]["messages"][1]["content"]
    last = llm.requests[-1]["messages"]
    assert last[1]["content"].startswith("Summary of our conversation so far: Turn 1")
    assert sum(len(m["content"]) for m in last) // 3 <= 1024 - 512  # room left for the answer


async def test_compress_on_demand_folds_every_turn_into_the_summary(
    config: Path, llm: ScriptedLlm, tmp_path: Path
) -> None:
    async with Runtime(load_config(config).settings) as runtime:
        session = ChatSession(runtime, SessionStore(tmp_path / "sessions"), mode="plain")
        await session.ask("remember the code word: heron")
        notice = await session.compress()
        assert "compressed 2 earlier messages" in notice
        assert session.messages == [] and session.state.summary
        await session.ask("what was the code word?")
    assert llm.requests[-1]["messages"][1]["content"].startswith("Summary of our conversation")
