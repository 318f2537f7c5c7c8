"""A message to a Telegram chat: one HTTPS POST to the Bot API's sendMessage, no bot library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from llmorch.config import TelegramNotify
from llmorch.notify.failure import DeliveryError
from llmorch.notify.http import post, refused
from llmorch.notify.message import Notification

if TYPE_CHECKING:
    import httpx2

MAX_CHARS = 4096
"""Telegram refuses longer messages; a longer notification is sent in parts (see kinds.parts)."""


async def send(target: TelegramNotify, notification: Notification) -> None:
    token = target.token()
    if token is None:
        where = target.token_env or target.token_file
        raise DeliveryError(f"no bot token in {where}", retryable=False)
    body = {
        "chat_id": target.chat_id,
        "text": message_text(notification),
        "link_preview_options": {"is_disabled": True},
    }
    url = f"{target.api_base.rstrip('/')}/bot{token}/sendMessage"
    response = await post(url, timeout_s=target.timeout_s, json=body)
    if response.is_success:
        return
    answer = _json_object(response)
    error = refused(response, str(answer.get("description", "")))
    parameters = cast("dict[str, Any]", answer.get("parameters") or {})
    if isinstance(wait := parameters.get("retry_after"), int | float):
        error.retry_after = float(wait)  # Telegram says it in the body, not a header
    raise error


def message_text(notification: Notification) -> str:
    """The title, a blank line and the text."""
    return f"{notification.title}\n\n{notification.text}"


def _json_object(response: httpx2.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return cast("dict[str, Any]", data) if isinstance(data, dict) else {}
