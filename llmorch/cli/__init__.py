"""The command-line interface: thin commands that parse, build context, call a workflow and render."""

import sys

from llmorch import __version__


def main() -> None:
    """Console-script entry point."""
    # `--version` alone is answered before Typer, pydantic and the commands are imported: it is
    # what scripts and health checks call most, and those imports cost over 200 ms.
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.stdout.write(f"llmorch {__version__}\n")
        return
    import gc

    # Start-up imports create a few hundred thousand objects that live as long as the process;
    # with the default threshold the collector walks them again and again while they load.
    gc.set_threshold(_GEN0_THRESHOLD)
    try:
        from llmorch.cli.early import EarlyStart

        early = EarlyStart.start(sys.argv[1:])
        from llmorch.cli.app import app

        app(obj=early)
    finally:
        # Nothing left is garbage worth finding: skip the collection interpreter shutdown does.
        gc.freeze()


_GEN0_THRESHOLD = 20_000
"""Allocations between young-generation collections (CPython's default is 700)."""
