"""The declared pipeline context does not satisfy what the very first step asks for."""

from typing import Protocol

from llmorch.pipeline import Pipeline, step


class HasLlm(Protocol):
    llm: str


class BareContext:
    pass


@step
async def ask(inp: str, ctx: HasLlm) -> str:
    return ctx.llm + inp


# expect: "llm" is not present
Pipeline.create(ask, context=BareContext)
