"""The one registry of notification kinds: each target's settings class → the module sending it."""

from __future__ import annotations

from typing import assert_never

from llmorch.config import EmailNotify, FileNotify, NotifyTarget, TelegramNotify, WebhookNotify
from llmorch.notify import file, smtp, telegram, webhook
from llmorch.notify.message import Notification


def parts(target: NotifyTarget, notification: Notification) -> list[Notification]:
    """The messages `notification` goes out as: one, except where the target limits its size."""
    if isinstance(target, TelegramNotify):
        return notification.in_parts(telegram.MAX_CHARS)
    return [notification]


async def send(target: NotifyTarget, notification: Notification) -> None:
    """One attempt to deliver `notification` to `target`; raises DeliveryError when it fails."""
    match target:
        case TelegramNotify():
            await telegram.send(target, notification)
        case WebhookNotify():
            await webhook.send(target, notification)
        case EmailNotify():
            await smtp.send(target, notification)
        case FileNotify():
            await file.send(target, notification)
        case _:
            assert_never(target)
