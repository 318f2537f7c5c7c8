"""A mail over SMTP (standard library): implicit TLS, STARTTLS or plain for a local relay."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from llmorch.config import EmailNotify
from llmorch.notify.failure import DeliveryError
from llmorch.notify.message import Notification


async def send(target: EmailNotify, notification: Notification) -> None:
    mail = EmailMessage()
    mail["Subject"] = target.subject_prefix + notification.title.removeprefix("llmorch ")
    mail["From"] = target.sender
    mail["To"] = ", ".join(target.to)
    mail.set_content(notification.text)
    password = target.password()
    # smtplib blocks; its own timeout bounds each socket operation, the caller's the whole attempt.
    await asyncio.to_thread(_send, target, mail, password)


def _send(target: EmailNotify, mail: EmailMessage, password: str | None) -> None:
    host, port, timeout = target.host, target.resolved_port(), target.timeout_s
    try:
        if target.security == "tls":
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if target.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if target.username is not None:
                smtp.login(target.username, password or "")
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        # 4xx is the server asking to try later (greylisting, a full queue); 5xx is a refusal.
        message = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise DeliveryError(
            f"SMTP {exc.smtp_code}: {message}", retryable=400 <= exc.smtp_code < 500
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"recipients refused: {', '.join(exc.recipients)}", retryable=False
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"{host}:{port}: {exc}", retryable=False) from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS failures
        raise DeliveryError(f"cannot send through {host}:{port}: {exc}", retryable=True) from exc
