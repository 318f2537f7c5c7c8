"""A step asks for a context Protocol the pipeline's context does not satisfy."""

from typing import Protocol

from llmorch.pipeline import Pipeline, step


class HasStore(Protocol):
    store: dict[str, str]


class CliContext:
    def __init__(self) -> None:
        self.llm = "local"


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


@step
async def lookup(inp: int, ctx: HasStore) -> str:
    return ctx.store[str(inp)]


# expect: "store" is not present
Pipeline.create(parse, context=CliContext).pipe(lookup)
