"""The bot through python-telegram-bot's own client, against the Bot API stand-in on 127.0.0.1 and
the scripted model server: who is answered, how answers arrive, and what Telegram's errors do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bot_api_standin import ALICE, STRANGER, BotApiStandIn, Failure, Shown, too_many_requests
from loguru import logger
from scripted_llm import Reply, ScriptedLlm

from llmorch.channels.telegram.bot import TelegramBot
from llmorch.runs.store import RunFilter, RunStore
from llmorch.workflows.chat import SessionStore

pytestmark = pytest.mark.usefixtures("bot")


@pytest.fixture
def log() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="INFO")
    yield lines
    logger.remove(sink)


def finished(api: BotApiStandIn, chat_id: int, count: int = 1) -> bool:
    """The chat shows `count` bot messages and the last one is no longer being written."""
    shown = api.chat(chat_id)
    return len(shown) >= count and not shown[-1].text.endswith("…")


async def ask(api: BotApiStandIn, text: str, chat_id: int = ALICE) -> Shown:
    """Say `text` and wait for the bot's reply to be complete; returns it."""
    before = len(api.chat(chat_id))
    api.user_says(chat_id, text)
    await api.until(lambda: finished(api, chat_id, before + 1))
    return api.chat(chat_id)[-1]


async def test_an_allowed_chat_gets_its_answer_written_into_one_message(
    telegram_api: BotApiStandIn,
) -> None:
    answer = await ask(telegram_api, "when do backups run?")
    assert telegram_api.chat(ALICE) == [answer]  # the placeholder became the answer
    assert answer.parse_mode == "HTML"
    assert answer.text.startswith("Turn 1: you asked about Question: when do backups run?")
    assert answer.text.endswith(
        "<b>Sources</b>\n[1] Backup strategy — <code>Backup strategy.md#Backup strategy</code>"
    )
    assert len(answer.edit_times) >= 2, "the answer should appear while it is written"
    (run,) = RunStore().list(RunFilter())
    assert (run["workflow"], run["trigger"], run["status"]) == ("qa", "chat", "ok")


async def test_edits_of_a_streaming_answer_keep_the_configured_interval(
    telegram_api: BotApiStandIn,
) -> None:
    answer = await ask(telegram_api, "when do backups run?")
    gaps = [b - a for a, b in zip(answer.edit_times, answer.edit_times[1:], strict=False)]
    assert gaps and min(gaps) >= 0.25  # edit_interval_s is 0.3 in these tests


async def test_a_stranger_gets_nothing_and_is_logged(
    telegram_api: BotApiStandIn, llm: ScriptedLlm, log: list[str]
) -> None:
    telegram_api.user_says(STRANGER, "tell me your secrets", username="mallory")
    await ask(telegram_api, "when do backups run?")  # answered after the stranger's update
    assert telegram_api.chat(STRANGER) == []
    assert all("secrets" not in str(r["messages"]) for r in llm.requests)
    assert any("ignored a message from chat 666 (mallory)" in line for line in log)


async def test_a_429_with_retry_after_is_waited_out(telegram_api: BotApiStandIn) -> None:
    telegram_api.fail_next("sendMessage", too_many_requests(retry_after=1))
    answer = await ask(telegram_api, "when do backups run?")
    assert answer.text.startswith("Turn 1")
    refused, accepted = telegram_api.called("sendMessage")[:2]
    assert accepted.at - refused.at >= 1.0


async def test_a_bad_gateway_while_polling_and_sending_is_retried(
    telegram_api: BotApiStandIn,
) -> None:
    telegram_api.fail_next("getUpdates", Failure(502, "Bad Gateway"))
    telegram_api.fail_next("sendMessage", Failure(502, "Bad Gateway"))
    answer = await ask(telegram_api, "when do backups run?")
    assert answer.text.startswith("Turn 1")


async def test_new_starts_a_fresh_conversation(
    telegram_api: BotApiStandIn, llm: ScriptedLlm
) -> None:
    await ask(telegram_api, "when do backups run?")
    assert (await ask(telegram_api, "and on weekends?")).text.startswith("Turn 2")
    reply = await ask(telegram_api, "/new")
    assert reply.text.startswith("New conversation")
    assert (await ask(telegram_api, "what about the garden?")).text.startswith("Turn 1")
    assert [m["role"] for m in llm.requests[-1]["messages"]] == ["system", "user"]


async def test_mode_switches_how_this_chat_is_answered_and_is_saved(
    telegram_api: BotApiStandIn, llm: ScriptedLlm, store: SessionStore
) -> None:
    assert (await ask(telegram_api, "/mode")).text == "Mode: rag"
    assert (await ask(telegram_api, "/mode@llmorch_test_bot plain")).text == "Mode: plain"
    answer = await ask(telegram_api, "hello there")
    assert llm.requests[-1]["messages"][-1]["content"] == "hello there"  # no passages attached
    assert "Sources" not in answer.text
    saved = store.load(f"telegram-{ALICE}")
    assert saved is not None and saved.mode == "plain"
    assert (await ask(telegram_api, "/mode chatty")).text.startswith("Unknown mode 'chatty'")


async def test_an_answer_longer_than_a_message_is_split_at_paragraphs(
    telegram_api: BotApiStandIn, llm: ScriptedLlm
) -> None:
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum dolor " * 40 for i in range(14)]
    llm.replies.append(Reply(text="\n\n".join(paragraphs)))
    llm.chunk_delay = 0.0005  # ~1700 words
    before = len(telegram_api.chat(ALICE))
    telegram_api.user_says(ALICE, "write a lot")
    await telegram_api.until(lambda: finished(telegram_api, ALICE, before + 3), within=30)
    pieces = [m.text for m in telegram_api.chat(ALICE)[before:]]
    assert len(pieces) == 3  # 14 paragraphs of ~740 characters; the stand-in refuses any over 4096
    assert all(p.startswith("Paragraph") for p in pieces)
    shown = "\n\n".join(pieces).split("\n\n")
    assert shown[:-1] == [p.strip() for p in paragraphs]
    assert shown[-1].startswith("<i>Note: no notes matched")


async def test_broken_markdown_is_delivered_as_valid_html(
    telegram_api: BotApiStandIn, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="**never closed <b>raw</b> & `code without end [link](x"))
    answer = await ask(telegram_api, "break it")
    assert answer.parse_mode == "HTML"  # the stand-in parsed it as Telegram does
    assert "&lt;b&gt;raw&lt;/b&gt; &amp;" in answer.text


async def test_text_telegram_cannot_parse_arrives_as_plain_text(
    telegram_api: BotApiStandIn, llm: ScriptedLlm
) -> None:
    telegram_api.refuse_html = True
    llm.replies.append(Reply(text="Backups run **nightly** at 02:30."))
    answer = await ask(telegram_api, "when do backups run?")
    assert answer.parse_mode is None
    assert answer.text == "Backups run **nightly** at 02:30."


async def test_a_failing_model_is_told_to_the_chat_and_the_bot_carries_on(
    telegram_api: BotApiStandIn, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(text="model crashed", error_status=500))
    failed = await ask(telegram_api, "when do backups run?")
    assert failed.text.startswith("⚠️")
    assert (await ask(telegram_api, "and now?")).text.startswith("Turn 1")


async def test_run_starts_a_workflow_and_its_result_joins_the_conversation(
    telegram_api: BotApiStandIn, bot: TelegramBot
) -> None:
    reply = await ask(telegram_api, '/run qa query="when do backups run?"')
    assert reply.text.startswith("Turn 1: you asked about Question: when do backups run?")
    session = bot.conversations.session(ALICE)
    assert session.messages[0].content.startswith("(ran workflow qa")
    unknown = await ask(telegram_api, "/run nosuchflow")
    assert unknown.text.startswith("⚠️") and "nosuchflow" in unknown.text


async def test_help_lists_the_commands(telegram_api: BotApiStandIn) -> None:
    reply = await ask(telegram_api, "/help")
    for command in ("/new", "/mode", "/model", "/tags", "/limit", "/sources", "/run", "/help"):
        assert command in reply.text
    assert (await ask(telegram_api, "/frobnicate")).text.startswith("Unknown command /frobnicate")


async def test_sources_lists_what_the_last_answer_found(telegram_api: BotApiStandIn) -> None:
    assert (await ask(telegram_api, "/sources")).text == "No sources yet."
    await ask(telegram_api, "when do backups run?")
    listed = await ask(telegram_api, "/sources")
    assert listed.text.startswith("<b>Sources</b>\n[1] Backup strategy — <code>")


async def test_tags_and_limit_narrow_this_chats_retrieval_and_are_saved(
    telegram_api: BotApiStandIn, llm: ScriptedLlm, store: SessionStore
) -> None:
    def passages_sent() -> list[str]:
        prompt = llm.requests[-1]["messages"][-1]["content"]
        return [name for name in ("Backup strategy", "Garden") if name in prompt]

    await ask(telegram_api, "restic backup and tomatoes")
    assert passages_sent() == ["Backup strategy", "Garden"]
    assert (await ask(telegram_api, "/limit 1")).text == "Limit: 1 passage"
    await ask(telegram_api, "restic backup and tomatoes")
    assert len(passages_sent()) == 1
    assert (await ask(telegram_api, "/limit")).text == "Limit: 1 passage"
    assert (
        await ask(telegram_api, "/limit many")
    ).text == "Give the number of passages, e.g. /limit 4"
    assert (await ask(telegram_api, "/limit 99")).text.startswith("⚠️ limit 99 is out of range")

    assert (await ask(telegram_api, "/tags")).text == "Tags: none (all notes)"
    assert (await ask(telegram_api, "/tags #Garden, outdoors")).text == "Tags: Garden, outdoors"
    await ask(telegram_api, "restic backup and tomatoes")
    assert passages_sent() == []  # no note carries those tags
    saved = store.load(f"telegram-{ALICE}")
    assert saved is not None and (saved.tags, saved.limit) == (["Garden", "outdoors"], 1)
    assert (await ask(telegram_api, "/tags -")).text == "Tags: none (all notes)"


async def test_model_shows_and_switches_the_model_and_refuses_one_the_server_lacks(
    telegram_api: BotApiStandIn, llm: ScriptedLlm, store: SessionStore
) -> None:
    assert (await ask(telegram_api, "/model")).text == "Model: scripted-model"
    refused = await ask(telegram_api, "/model no-such-model")
    assert refused.text.startswith("⚠️ model 'no-such-model' is not available")
    assert (await ask(telegram_api, "/model scripted-model")).text == "Model: scripted-model"
    saved = store.load(f"telegram-{ALICE}")
    assert saved is not None and saved.model == "scripted-model"
