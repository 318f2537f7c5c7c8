"""Piping a step whose input differs from the previous output."""

from llmorch.pipeline import Pipeline, step


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


@step
async def shout(inp: str, ctx: object) -> str:
    return inp.upper()


# expect: cannot be assigned to parameter "step"
Pipeline.create(parse).pipe(shout)
