"""A local file: notifications appended under a dated heading, or the file replaced by the latest."""

from __future__ import annotations

import asyncio
from datetime import datetime

from llmorch.config import FileNotify
from llmorch.notify.failure import DeliveryError
from llmorch.notify.message import Notification


async def send(target: FileNotify, notification: Notification) -> None:
    await asyncio.to_thread(_write, target, notification)


def _write(target: FileNotify, notification: Notification) -> None:
    path = target.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if target.mode == "overwrite":
            path.write_text(notification.text.rstrip("\n") + "\n", encoding="utf-8")
            return
        stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        entry = f"## {stamp} · {notification.title}\n\n{notification.text.rstrip()}\n\n"
        with path.open("a", encoding="utf-8") as out:
            out.write(entry)
    except OSError as exc:
        raise DeliveryError(f"cannot write {path}: {exc.strerror or exc}", retryable=False) from exc
