"""unwrap() returns the pipeline's output type."""

from llmorch.pipeline import Pipeline, step


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


async def run() -> None:
    result = await Pipeline.create(parse).execute("1", None)
    # expect: "int" is not assignable to "str"
    text: str = result.unwrap()
    print(text)
