"""Keep a conversation inside the model's context window: when the next request would not fit, the
older turns become a short summary written by the model itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llmorch.llm.messages import AssistantMessage, Message, SystemMessage, ToolMessage, UserMessage
from llmorch.llm.model import ChatModel

CHARS_PER_TOKEN = 3
"""A conservative estimate (English runs ~4 characters a token): better to compress early than to
hit the server's context limit in the middle of a chat."""

SUMMARY_TOKENS = 256
SUMMARY_PROMPT = (
    "Summarise the conversation below in at most 150 words for the assistant's own memory: keep "
    "names, numbers, facts, decisions and open questions. Write only the summary."
)


def estimate_tokens(messages: Sequence[Message]) -> int:
    """Roughly what `messages` cost in the context window (plus a few tokens of framing each)."""
    return sum(len(_text(m)) // CHARS_PER_TOKEN + 4 for m in messages)


def _text(message: Message) -> str:
    if isinstance(message, AssistantMessage):
        return message.content or ""
    return message.content


@dataclass(frozen=True)
class Compressed:
    summary: str
    kept: list[Message]
    folded: int
    """How many messages went into the summary."""


def history_with_summary(summary: str, messages: Sequence[Message]) -> list[Message]:
    """What the model sees of the conversation: the summary as an exchange, then the recent turns."""
    if not summary:
        return list(messages)
    return [
        UserMessage(content=f"Summary of our conversation so far: {summary}"),
        AssistantMessage(content="Understood; I will keep that in mind."),
        *messages,
    ]


def split_to_fit(messages: Sequence[Message], budget: int) -> int:
    """Index of the first message kept so that the kept tail costs at most `budget` tokens and starts
    at a user turn (a tool result without its call would confuse the model)."""
    start = len(messages)
    cost = 0
    for i in range(len(messages) - 1, -1, -1):
        cost += estimate_tokens([messages[i]])
        if cost > budget:
            break
        if isinstance(messages[i], UserMessage):
            start = i
    return start


async def compress(
    llm: ChatModel, summary: str, messages: Sequence[Message], *, keep_budget: int, context: int
) -> Compressed:
    """Fold the older messages (and any earlier summary) into a new summary; the newest turns that
    fit `keep_budget` stay verbatim. The transcript sent is cut to what the context can take."""
    start = split_to_fit(messages, keep_budget)
    older, kept = messages[:start], list(messages[start:])
    lines = [f"Earlier summary: {summary}"] if summary else []
    lines += [f"{_role(m)}: {_text(m)}" for m in older if _text(m)]
    room = context - SUMMARY_TOKENS - estimate_tokens([SystemMessage(content=SUMMARY_PROMPT)])
    transcript = "\n".join(lines)[-max(room, 0) * CHARS_PER_TOKEN :]  # the newest part matters most
    completion = await llm.complete(
        [SystemMessage(content=SUMMARY_PROMPT), UserMessage(content=transcript)],
        max_tokens=SUMMARY_TOKENS,
        temperature=0.0,
    )
    text = " ".join((completion.message.content or "").split()) or summary
    return Compressed(summary=text, kept=kept, folded=len(older))


def _role(message: Message) -> str:
    if isinstance(message, UserMessage):
        return "User"
    if isinstance(message, ToolMessage):
        return "Tool"
    return "Assistant"
