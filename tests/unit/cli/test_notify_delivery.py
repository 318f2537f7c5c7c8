"""Delivery itself (llmorch.notify): what is retried and how long it waits, what gives up at once,
and how long a slow target may hold a job, against real receivers on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notify_receivers import Answer, HttpReceiver, telegram_error
from pydantic import TypeAdapter, ValidationError

from llmorch.config import NotifyTarget, Settings
from llmorch.errors import UsageError
from llmorch.notify.delivery import deliver, targets_named
from llmorch.notify.message import Notification
from llmorch.notify.telegram import MAX_CHARS

TOKEN = "987654:XYZ-another-token"
DONE = Notification.success("digest", "Three notes changed this week.", "01RUN")


def target(**fields: Any) -> NotifyTarget:
    return TypeAdapter[NotifyTarget](NotifyTarget).validate_python(fields)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


@pytest.fixture
def telegram(receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> NotifyTarget:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    return target(kind="telegram", chat_id=7, token_env="BOT_TOKEN", api_base=receiver.url)


class Waits:
    """Stands in for asyncio.sleep: records each backoff instead of sleeping through it."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def test_telegram_429_is_waited_out_for_as_long_as_it_asks_then_delivered(
    receiver: HttpReceiver, telegram: NotifyTarget
) -> None:
    receiver.answers.append(telegram_error(429, "Too Many Requests: retry after 3", 3))
    waits = Waits()
    (delivery,) = await deliver({"phone": telegram}, DONE, sleep=waits)
    assert delivery.ok and delivery.attempts == 2
    assert waits.seconds == [3.0]
    assert [r.json()["text"] for r in receiver.requests] == [
        "llmorch digest: done\n\nThree notes changed this week."
    ] * 2


async def test_a_server_error_is_retried_with_growing_waits_then_reported(
    receiver: HttpReceiver,
) -> None:
    receiver.answers += [Answer(status=503, body={"error": "busy"})] * 3
    waits = Waits()
    hook = target(kind="webhook", url=receiver.url, retries=2)
    (failure,) = await deliver({"hook": hook}, DONE, sleep=waits)
    assert (failure.target, failure.kind, failure.ok, failure.attempts) == (
        "hook",
        "webhook",
        False,
        3,
    )
    assert failure.error is not None and failure.error.startswith("HTTP 503")
    assert len(receiver.requests) == 3
    assert len(waits.seconds) == 2 and waits.seconds[1] > waits.seconds[0] > 0


async def test_a_retry_after_header_sets_the_wait(receiver: HttpReceiver) -> None:
    receiver.answers.append(Answer(status=429, body={}, headers={"Retry-After": "2"}))
    waits = Waits()
    (delivery,) = await deliver({"h": target(kind="webhook", url=receiver.url)}, DONE, sleep=waits)
    assert delivery.ok and waits.seconds == [2.0]


async def test_a_wait_longer_than_the_bound_fails_instead_of_holding_the_job(
    receiver: HttpReceiver, telegram: NotifyTarget
) -> None:
    receiver.answers.append(telegram_error(429, "Too Many Requests: retry after 3600", 3600))
    waits = Waits()
    (failure,) = await deliver({"phone": telegram}, DONE, sleep=waits)
    assert "HTTP 429" in str(failure.error) and failure.attempts == 1 and waits.seconds == []


async def test_a_target_that_does_not_answer_in_time_fails_within_its_timeout(
    receiver: HttpReceiver,
) -> None:
    receiver.answers.append(Answer(delay_s=3))
    slow = target(kind="webhook", url=receiver.url, timeout_s=0.3, retries=0)
    started = time.monotonic()
    (failure,) = await deliver({"slow": slow}, DONE)
    assert time.monotonic() - started < 2.5
    assert failure.error == "no answer within 0.3 s" and failure.attempts == 1


async def test_targets_are_sent_to_at_once_and_one_failing_spares_the_others(
    receiver: HttpReceiver, tmp_path: Path
) -> None:
    broken = target(kind="file", path=str(tmp_path / "a-file"), mode="overwrite")
    (tmp_path / "a-file").mkdir()  # a folder where the file should be
    hook = target(kind="webhook", url=receiver.url)
    failed, sent = await deliver({"broken": broken, "hook": hook}, DONE)
    assert (failed.target, failed.ok, failed.attempts) == ("broken", False, 1)  # not retried
    assert "cannot write" in str(failed.error)
    assert sent.ok and len(receiver.requests) == 1


async def test_an_unreadable_token_file_fails_without_contacting_telegram(
    receiver: HttpReceiver, tmp_path: Path
) -> None:
    phone = target(
        kind="telegram", chat_id=1, token_file=str(tmp_path / "missing"), api_base=receiver.url
    )
    (failure,) = await deliver({"phone": phone}, DONE)
    assert "cannot read the Telegram token file" in str(failure.error)
    assert receiver.requests == []


LONG_DIGEST = "\n\n".join(f"Note {n} changed: " + " ".join(["words"] * 150) for n in range(12))


async def test_a_message_longer_than_telegram_allows_arrives_whole_in_numbered_parts(
    receiver: HttpReceiver, telegram: NotifyTarget
) -> None:
    (delivery,) = await deliver(
        {"phone": telegram}, Notification.success("digest", LONG_DIGEST, None)
    )
    assert delivery.ok
    texts = [r.json()["text"] for r in receiver.requests]
    assert len(texts) == 3 and all(len(text) <= MAX_CHARS for text in texts)
    titles, bodies = zip(*(text.split("\n\n", 1) for text in texts), strict=True)
    assert titles == tuple(f"llmorch digest: done ({n}/3)" for n in (1, 2, 3))
    # Cut between paragraphs: every paragraph arrives once, in order, in one piece.
    assert "\n\n".join(bodies) == LONG_DIGEST


async def test_a_part_that_fails_is_retried_without_sending_the_earlier_parts_again(
    receiver: HttpReceiver, telegram: NotifyTarget
) -> None:
    receiver.answers += [Answer(), telegram_error(429, "Too Many Requests: retry after 1", 1)]
    waits = Waits()
    long = Notification.success("digest", LONG_DIGEST, None)
    (delivery,) = await deliver({"phone": telegram}, long, sleep=waits)
    assert delivery.ok and delivery.attempts == 4 and waits.seconds == [1.0]
    titles = [r.json()["text"].split("\n\n", 1)[0] for r in receiver.requests]
    assert titles == [f"llmorch digest: done ({n}/3)" for n in (1, 2, 2, 3)]


async def test_overwrite_mode_keeps_only_the_latest_result(tmp_path: Path) -> None:
    latest = target(kind="file", path=str(tmp_path / "brief.md"), mode="overwrite")
    for text in ("Monday's brief", "Tuesday's brief"):
        (delivery,) = await deliver({"brief": latest}, Notification.success("qa", text, None))
        assert delivery.ok
    assert (tmp_path / "brief.md").read_text(encoding="utf-8") == "Tuesday's brief\n"


def test_a_failure_notification_says_the_error_its_exit_code_and_where_the_record_is() -> None:
    error = UsageError("invalid input for workflow 'digest': days: unknown field")
    error.run_id = "01JD3XYZ"
    failed = Notification.failure("digest", error)
    assert failed.title == "llmorch digest: failed"
    assert failed.text == (
        "error: invalid input for workflow 'digest': days: unknown field\n"
        "exit code 2 · run 01JD3XYZ"
    )
    assert failed.to_json()["error_kind"] == "usage"


def test_a_telegram_target_needs_exactly_one_token_source() -> None:
    with pytest.raises(ValidationError, match="give either token_env or token_file"):
        target(kind="telegram", chat_id=1)


def test_an_unknown_kind_names_the_kinds_there_are() -> None:
    with pytest.raises(ValidationError, match="'telegram', 'webhook', 'email', 'file'"):
        target(kind="pager", url="http://x")


def test_tokens_passwords_and_header_values_are_secrets_to_redact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pw").write_text("smtp-secret-pw\n", encoding="utf-8")
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("NTFY_AUTH", "Bearer tk_ntfy_secret")
    settings = Settings.model_validate(
        {
            "notify": {
                "phone": {"kind": "telegram", "chat_id": 1, "token_env": "BOT_TOKEN"},
                "ntfy": {
                    "kind": "webhook", "url": "https://bob:url-password@ntfy.example/t",
                    "headers_from_env": {"Authorization": "NTFY_AUTH"},
                },
                "mail": {
                    "kind": "email", "host": "smtp.example", "password_file": str(tmp_path / "pw"),
                    "sender": "a@example.org", "to": ["b@example.org"],
                },
            }
        }
    )  # fmt: skip
    secrets = settings.secret_values()
    for value in (TOKEN, "Bearer tk_ntfy_secret", "smtp-secret-pw", "url-password"):
        assert value in secrets


def test_targets_are_looked_up_by_name_before_a_run() -> None:
    settings = Settings.model_validate(
        {"notify": {"journal": {"kind": "file", "path": "/tmp/j.md"}}}
    )
    assert list(targets_named(settings, ["journal"])) == ["journal"]
    with pytest.raises(UsageError, match=r"unknown notification target 'phone' \(journal\)"):
        targets_named(settings, ["journal", "phone"])
