"""map needs a pipeline whose output is a sequence of the mapped step's input."""

from llmorch.pipeline import Pipeline, step


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


@step
async def square(inp: int, ctx: object) -> int:
    return inp * inp


# expect: Cannot access attribute "map"
Pipeline.create(parse).map(square)
