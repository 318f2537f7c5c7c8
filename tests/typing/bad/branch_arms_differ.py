"""Branch arms that produce different types (even int vs bool: arms must match exactly)."""

from llmorch.pipeline import Pipeline, step


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


@step
async def as_text(inp: int, ctx: object) -> str:
    return str(inp)


@step
async def as_number(inp: int, ctx: object) -> int:
    return inp


# expect: cannot be assigned to parameter "if_false"
Pipeline.create(parse).branch(lambda n: n > 0, as_text, as_number)
