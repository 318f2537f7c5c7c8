"""`--notify` and `--notify-on-failure` for `run` and `ask`: after the run, its result (or its
failure) is sent to the named targets. A delivery that fails is a warning; it never changes the
command's output or exit code."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Annotated

import typer

from llmorch.cli import render
from llmorch.errors import LlmorchError

if TYPE_CHECKING:
    from llmorch.config import NotifyTarget, Settings
    from llmorch.notify.message import Notification
    from llmorch.workflows.citations import Source

NotifyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        metavar="NAME",
        help="Send the result, or the failure, to this target under `notify` in the config "
        "(repeatable).",
    ),
]
NotifyOnFailureOption = Annotated[
    list[str] | None,
    typer.Option(
        "--notify-on-failure",
        metavar="NAME",
        help="Send only a failure (error, exit code, run id) to this target (repeatable).",
    ),
]


class Notifier:
    """The context a command runs in: a failure leaving it is sent on, then raised as it was.

    Unknown target names are a UsageError when it is built, before anything runs."""

    def __init__(
        self,
        settings: Settings,
        workflow: str,
        always: Sequence[str] | None,
        on_failure: Sequence[str] | None,
    ) -> None:
        from llmorch.notify.delivery import targets_named

        self._settings = settings
        self._workflow = workflow
        self._always = targets_named(settings, always or [])
        self._on_failure = {**targets_named(settings, on_failure or []), **self._always}

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, LlmorchError) and self._on_failure:
            from llmorch.notify.message import Notification

            _send(self._settings, self._on_failure, Notification.failure(self._workflow, exc))

    def succeeded(self, text: str, run_id: str | None, sources: Sequence[Source] = ()) -> None:
        """Send the result, with the sources it cited, to the `--notify` targets."""
        if not self._always:
            return
        from llmorch.notify.message import Notification

        cited = [f"[{s.n}] {s.citation}" for s in sources if s.cited]
        body = text.rstrip() + ("\n\nSources:\n" + "\n".join(cited) if cited else "")
        _send(self._settings, self._always, Notification.success(self._workflow, body, run_id))


def _send(settings: Settings, targets: dict[str, NotifyTarget], notification: Notification) -> None:
    """Deliver, warn about each target that failed, and add every outcome to the run's record."""
    import asyncio

    from llmorch.notify.delivery import deliver
    from llmorch.runs.recorder import record_notifications

    deliveries = asyncio.run(deliver(targets, notification))
    for failed in (d for d in deliveries if not d.ok):
        render.warning(
            f"notification {failed.target!r} not delivered: {failed.error} "
            f"(after {failed.attempts} attempt(s))"
        )
    if notification.run_id is not None:
        rows = [(d.target, d.kind, d.ok, d.attempts, d.error) for d in deliveries]
        record_notifications(settings, notification.run_id, rows)
