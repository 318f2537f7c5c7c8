"""pyright must accept these pipelines and infer exactly these types (strict mode)."""

from typing import Protocol, assert_type

from llmorch.pipeline import Pipeline, Step, StepResult, Success, step


class HasLlm(Protocol):
    llm: str


class HasStore(Protocol):
    store: dict[str, str]


class AppContext:
    """A concrete context that satisfies both Protocols structurally, without inheriting them."""

    def __init__(self) -> None:
        self.llm = "local"
        self.store: dict[str, str] = {}


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


@step(name="is_even")
async def is_even(inp: int, ctx: HasLlm) -> bool:
    return inp % 2 == 0


@step
async def describe(inp: int, ctx: HasStore) -> str:
    return ctx.store.get(str(inp), "?")


@step
async def label(inp: int, ctx: HasLlm) -> str:
    return f"{ctx.llm}:{inp}"


@step
async def shout(inp: str, ctx: object) -> str:
    return inp.upper()


@step
async def whisper(inp: str, ctx: object) -> str:
    return inp.lower()


@step
async def digits(inp: int, ctx: object) -> list[int]:
    return [int(d) for d in str(inp)]


@step
async def square(inp: int, ctx: object) -> int:
    return inp * inp


async def build_and_run() -> None:
    ctx = AppContext()
    # The context type is fixed once; each step only asks for the Protocol it needs.
    pipeline = Pipeline.create(parse, context=AppContext).pipe(describe)
    assert_type(pipeline, Pipeline[str, str, AppContext])

    # Branch arms with the same output type; the condition sees the previous output.
    branched = pipeline.branch(lambda text: text == "?", shout, whisper)
    assert_type(branched, Pipeline[str, str, AppContext])

    # Arms may ask for different Protocols, as long as the pipeline's context has both.
    by_context = Pipeline.create(parse, context=AppContext).branch(lambda n: n > 0, label, describe)
    assert_type(by_context, Pipeline[str, str, AppContext])

    # Parallel arms give a typed tuple, in arm order.
    fanned = Pipeline.create(parse, context=AppContext).parallel(is_even, describe, square)
    assert_type(fanned, Pipeline[str, tuple[bool, str, int], AppContext])

    # Map over a list output, bounded concurrency.
    mapped = Pipeline.create(parse, context=AppContext).pipe(digits).map(square, concurrency=2)
    assert_type(mapped, Pipeline[str, list[int], AppContext])

    # A whole pipeline nests as a step.
    squares = Pipeline.create(square, context=AppContext, name="squares").pipe(square)
    nested = Pipeline.create(parse, context=AppContext).pipe(squares.as_step())
    assert_type(nested, Pipeline[str, int, AppContext])

    result = await mapped.execute("123", ctx)
    assert_type(result, StepResult[list[int]])
    assert_type(result.unwrap(), list[int])
    if isinstance(result, Success):
        assert_type(result.data, list[int])
    else:
        assert_type(result.error.code, str)


def variance() -> None:
    # Out is covariant: a step making bool is a step making int.
    wider_out: Step[int, int, HasLlm] = is_even
    # In and Ctx are contravariant: a step reading `object` reads anything.
    narrower_in: Step[bool, int, AppContext] = square
    del wider_out, narrower_in
