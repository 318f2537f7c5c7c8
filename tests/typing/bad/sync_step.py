"""A step must be an async function."""

from llmorch.pipeline import step


# expect: Argument of type
@step
def parse(inp: str, ctx: object) -> int:
    return int(inp)
