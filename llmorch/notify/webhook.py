"""A POST to any URL: the notification as JSON, or as a plain-text body with a Title header
(what ntfy and similar push services read)."""

from __future__ import annotations

from llmorch.config import WebhookNotify
from llmorch.notify.http import post, refused
from llmorch.notify.message import Notification


async def send(target: WebhookNotify, notification: Notification) -> None:
    headers = target.all_headers()
    if target.format == "json":
        response = await post(
            target.url, timeout_s=target.timeout_s, json=notification.to_json(), headers=headers
        )
    else:
        plain = {"Title": notification.title, "Content-Type": "text/plain; charset=utf-8"}
        if not notification.ok:
            plain["Tags"] = "warning"
        response = await post(
            target.url,
            timeout_s=target.timeout_s,
            content=notification.text,
            headers={**plain, **headers},
        )
    if not response.is_success:
        raise refused(response, response.text[:200].strip())
