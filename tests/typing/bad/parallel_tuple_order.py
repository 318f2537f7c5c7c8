"""Parallel outputs are a typed tuple in arm order; consuming them in the wrong order is caught."""

from llmorch.pipeline import Pipeline, step


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


@step
async def as_text(inp: int, ctx: object) -> str:
    return str(inp)


@step
async def square(inp: int, ctx: object) -> int:
    return inp * inp


@step
async def total(inp: tuple[int, str], ctx: object) -> int:
    return inp[0]


# expect: "tuple[str, int]" is not assignable to "tuple[int, str]"
Pipeline.create(parse).parallel(as_text, square).pipe(total)
