"""`--notify` on `ask` and `run`: the real CLI, a real run against the scripted model server, and
the result arriving at real local receivers (HTTP, SMTP, a file) on 127.0.0.1."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_invoke import Invoke
from notify_receivers import HttpReceiver, SmtpServer, free_port, self_signed_certificate
from scripted_llm import Reply, ScriptedLlm

TOKEN = "123456:ABC-test-bot-token"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def add_targets(config: Path, **targets: dict[str, Any]) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["notify"] = targets
    config.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_ask_posts_its_answer_to_a_webhook_as_json(
    cli: Invoke, config: Path, llm: ScriptedLlm, receiver: HttpReceiver
) -> None:
    add_targets(config, hook={"kind": "webhook", "url": f"{receiver.url}/hooks/llmorch"})
    llm.replies.append(Reply(text="Restic runs nightly at 02:30."))
    result = cli("ask", "-q", "when do backups run?", "--no-rag", "--notify", "hook", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    (posted,) = receiver.requests
    assert posted.path == "/hooks/llmorch"
    assert posted.headers["content-type"] == "application/json"
    body = posted.json()
    assert body["text"] == "Restic runs nightly at 02:30."
    assert body["ok"] is True and body["exit_code"] == 0 and body["error_kind"] is None
    assert body["workflow"] == "ask" and body["title"] == "llmorch ask: done"
    assert body["run_id"] == answer["run_id"] and body["run_id"]


def test_telegram_target_calls_send_message_with_the_bot_token_and_chat(
    cli: Invoke,
    config: Path,
    llm: ScriptedLlm,
    receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_BOT_TOKEN", TOKEN)
    phone = {"kind": "telegram", "chat_id": 4242, "token_env": "MY_BOT_TOKEN"}
    add_targets(config, phone={**phone, "api_base": receiver.url})
    llm.replies.append(Reply(text="Water the tomatoes on Tuesdays."))
    result = cli("ask", "-q", "garden?", "--no-rag", "--notify", "phone")
    assert result.exit_code == 0, result.output
    assert "Water the tomatoes on Tuesdays." in result.stdout
    (sent,) = receiver.requests
    assert sent.path == f"/bot{TOKEN}/sendMessage"
    body = sent.json()
    assert body["chat_id"] == 4242
    assert body["text"] == "llmorch ask: done\n\nWater the tomatoes on Tuesdays."
    assert body["link_preview_options"] == {"is_disabled": True}


def test_mail_is_sent_over_smtp_after_logging_in_with_the_password_from_the_environment(
    cli: Invoke, config: Path, llm: ScriptedLlm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2-mail")
    with SmtpServer(users={"me@example.org": "hunter2-mail"}) as smtp:
        add_targets(
            config,
            mail={
                "kind": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                "username": "me@example.org", "password_env": "SMTP_PASSWORD",
                "sender": "llmorch@example.org", "to": ["me@example.org", "you@example.org"],
            },
        )  # fmt: skip
        llm.replies.append(Reply(text="Three tasks are due today."))
        result = cli("ask", "-q", "what is due?", "--no-rag", "--notify", "mail")
    assert result.exit_code == 0, result.output
    assert smtp.logins == ["me@example.org"]
    ((envelope, mail),) = smtp.mails
    assert envelope.mail_from == "llmorch@example.org"
    assert envelope.rcpt_tos == ["me@example.org", "you@example.org"]
    assert mail["Subject"] == "[llmorch] ask: done"
    assert mail.get_payload(decode=True).decode().strip() == "Three tasks are due today."  # type: ignore[union-attr]


def test_mail_goes_through_starttls_when_the_server_requires_it(
    cli: Invoke, config: Path, llm: ScriptedLlm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this test's certificate
    with SmtpServer(tls=tls) as smtp:
        mail = {"kind": "email", "host": "127.0.0.1", "port": smtp.port, "security": "starttls"}
        add_targets(config, mail={**mail, "sender": "a@example.org", "to": ["b@example.org"]})
        llm.replies.append(Reply(text="Encrypted on the way."))
        result = cli("ask", "-q", "x", "--no-rag", "--notify", "mail")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    ((_, received),) = smtp.mails
    assert "Encrypted on the way." in str(received.get_payload())


def test_file_target_appends_each_result_under_a_heading(
    cli: Invoke, config: Path, llm: ScriptedLlm, tmp_path: Path
) -> None:
    journal = tmp_path / "vault" / "Inbox" / "llmorch.md"
    add_targets(config, journal={"kind": "file", "path": str(journal)})
    llm.replies += [Reply(text="First answer."), Reply(text="Second answer.")]
    for question in ("one", "two"):
        assert cli("ask", "-q", question, "--no-rag", "--notify", "journal").exit_code == 0
    text = journal.read_text(encoding="utf-8")
    assert text.count("· llmorch ask: done\n\n") == 2
    assert text.index("First answer.") < text.index("Second answer.")


def test_run_sends_a_workflow_result_with_the_sources_it_cited(
    cli: Invoke, indexed: Path, config: Path, llm: ScriptedLlm, receiver: HttpReceiver
) -> None:
    add_targets(config, ntfy={"kind": "webhook", "url": receiver.url, "format": "text"})
    llm.replies.append(Reply(text="Nightly at 02:30 [1]."))
    result = cli("run", "qa", "query=when do backups run?", "--notify", "ntfy")
    assert result.exit_code == 0, result.output
    (posted,) = receiver.requests
    assert posted.headers["title"] == "llmorch qa: done"
    assert posted.headers["content-type"] == "text/plain; charset=utf-8"
    text = posted.body.decode()
    assert text.startswith("Nightly at 02:30 [1].\n\nSources:\n[1] Backup strategy.md#")


def test_a_failed_run_sends_its_error_exit_code_and_run_id(
    cli: Invoke, config: Path, llm: ScriptedLlm, receiver: HttpReceiver
) -> None:
    add_targets(config, hook={"kind": "webhook", "url": receiver.url})
    llm.replies.append(Reply(error_status=500, text="model crashed"))
    result = cli("run", "qa", "query=x", "--notify", "hook", "--json")
    assert result.exit_code == 5
    printed = json.loads(result.stdout)
    body = receiver.requests[0].json()
    assert body["ok"] is False and body["exit_code"] == 5 and body["error_kind"] == "llm"
    assert body["run_id"] == printed["run_id"] and body["run_id"]
    assert body["text"].startswith("error: ")
    assert body["text"].endswith(f"exit code 5 · run {body['run_id']}")
    shown = json.loads(cli("runs", "show", body["run_id"], "--json").stdout)
    assert shown["status"] == "failed"


def test_notify_on_failure_stays_silent_while_runs_succeed(
    cli: Invoke, config: Path, llm: ScriptedLlm, receiver: HttpReceiver
) -> None:
    add_targets(config, oncall={"kind": "webhook", "url": receiver.url})
    llm.replies += [Reply(text="fine"), Reply(error_status=500, text="model crashed")]
    assert cli("ask", "-q", "a", "--no-rag", "--notify-on-failure", "oncall").exit_code == 0
    assert receiver.requests == []
    assert cli("ask", "-q", "b", "--no-rag", "--notify-on-failure", "oncall").exit_code == 5
    (posted,) = receiver.requests
    assert posted.json()["ok"] is False


def test_a_dead_target_is_a_warning_and_the_run_keeps_its_output_and_exit_code(
    cli: Invoke, config: Path, llm: ScriptedLlm, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"
    journal = tmp_path / "journal.md"
    add_targets(
        config,
        dead={"kind": "webhook", "url": dead, "retries": 0, "timeout_s": 2},
        journal={"kind": "file", "path": str(journal)},
    )
    llm.replies.append(Reply(text="The answer still arrives."))
    result = cli("ask", "-q", "x", "--no-rag", "--notify", "dead", "--notify", "journal")
    assert result.exit_code == 0
    assert result.stdout.startswith("The answer still arrives.")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "'dead' not delivered: cannot reach http://127.0.0.1:" in warnings[0]
    assert warnings[0].endswith("(after 1 attempt(s))")
    assert "The answer still arrives." in journal.read_text(encoding="utf-8")


def test_where_the_result_went_and_whether_it_arrived_is_in_the_run_record(
    cli: Invoke, config: Path, llm: ScriptedLlm, receiver: HttpReceiver
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"
    add_targets(
        config,
        dead={"kind": "webhook", "url": dead, "retries": 0},
        hook={"kind": "webhook", "url": receiver.url},
    )
    llm.replies.append(Reply(text="Recorded."))
    result = cli("ask", "-q", "x", "--no-rag", "--notify", "dead", "--notify", "hook", "--json")
    assert result.exit_code == 0
    run_id = json.loads(result.stdout)["run_id"]
    record = json.loads(cli("runs", "show", run_id, "--json").stdout)
    dead_row, hook_row = record["notifications"]
    assert dead_row["target"] == "dead" and dead_row["ok"] is False and dead_row["attempts"] == 1
    assert dead_row["error"].startswith("cannot reach http://127.0.0.1:")
    assert hook_row == {
        "target": "hook",
        "kind": "webhook",
        "ok": True,
        "attempts": 1,
        "error": None,
    }
    tree = cli("runs", "show", run_id).stdout
    assert "notify dead (webhook) failed: cannot reach" in tree
    assert "notify hook (webhook) delivered · 1 attempt" in tree


def test_a_refused_telegram_message_never_prints_the_token(
    cli: Invoke,
    config: Path,
    llm: ScriptedLlm,
    receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    from notify_receivers import telegram_error

    token_file = tmp_path / "telegram-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    phone = {"kind": "telegram", "chat_id": "@nobody", "token_file": str(token_file)}
    add_targets(config, phone={**phone, "api_base": receiver.url})
    receiver.answers.append(telegram_error(400, f"Bad Request: chat not found ({TOKEN})"))
    llm.replies.append(Reply(text="ok"))
    result = cli("-v", "ask", "-q", "x", "--no-rag", "--notify", "phone", "--json")
    assert result.exit_code == 0
    assert "HTTP 400: Bad Request: chat not found" in result.stderr
    assert TOKEN not in result.stderr + result.stdout
    record = cli("runs", "show", json.loads(result.stdout)["run_id"], "--json").stdout
    assert "chat not found" in record and TOKEN not in record
    assert len(receiver.requests) == 1  # a client error is not retried


def test_an_unknown_target_is_a_usage_error_before_anything_runs(
    cli: Invoke, config: Path, llm: ScriptedLlm, receiver: HttpReceiver
) -> None:
    add_targets(config, hook={"kind": "webhook", "url": receiver.url})
    result = cli("run", "qa", "query=x", "--notify", "hokk")
    assert result.exit_code == 2
    assert "unknown notification target 'hokk' (hook)" in result.stderr
    assert llm.requests == [] and receiver.requests == []
