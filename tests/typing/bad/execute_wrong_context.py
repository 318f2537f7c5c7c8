"""Executing with a context object of the wrong type."""

from typing import Protocol

from llmorch.pipeline import Pipeline, step


class HasLlm(Protocol):
    llm: str


@step
async def ask(inp: str, ctx: HasLlm) -> str:
    return ctx.llm + inp


async def run() -> None:
    # expect: cannot be assigned to parameter "ctx"
    await Pipeline.create(ask).execute("hi", object())
