"""The `llmorch` command: global options, sub-command registration, and error-to-exit-code mapping."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from llmorch import __version__
from llmorch.cli import (
    ask_cmd,
    chat_cmd,
    config_cmd,
    ingest_cmd,
    mcp_cmd,
    models_cmd,
    render,
    run_cmd,
    runs_cmd,
    search_cmd,
    serve_cmd,
    telegram_cmd,
    tools_cmd,
    workflows_cmd,
)
from llmorch.cli.early import EarlyStart
from llmorch.cli.state import AppState
from llmorch.errors import InterruptedRunError, LlmorchError


class _LlmorchGroup(TyperGroup):
    """Runs each command in one trace (every log line and `ask --json` share its id) and turns
    expected failures into one line on stderr and the documented exit code."""

    # Typed Any: the base class takes the vendored click Context, which typer does not export.
    def invoke(self, ctx: Any) -> Any:
        from llmorch.logging import trace_context

        try:
            with trace_context():
                return super().invoke(ctx)
        except LlmorchError as exc:
            _report(ctx, exc)
            raise typer.Exit(exc.exit_code) from exc
        except KeyboardInterrupt as exc:
            _report(ctx, InterruptedRunError("interrupted"))
            raise typer.Exit(InterruptedRunError.exit_code) from exc


def _report(ctx: Any, exc: LlmorchError) -> None:
    state = ctx.find_object(AppState)
    if state is not None and state.verbosity > 0:
        render.err().print(traceback.format_exc(), markup=False, highlight=False)
    render.error(exc)


app = typer.Typer(
    name="llmorch",
    cls=_LlmorchGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("ask")(ask_cmd.ask)
app.command("chat")(chat_cmd.chat)
app.command("search")(search_cmd.search)
app.command("ingest")(ingest_cmd.ingest)
app.command("mcp")(mcp_cmd.mcp)
app.command("models")(models_cmd.models)
app.command("run")(run_cmd.run)
app.add_typer(workflows_cmd.app, name="workflows")
app.command("serve")(serve_cmd.serve)
app.command("telegram")(telegram_cmd.telegram)
app.add_typer(tools_cmd.app, name="tools")
app.add_typer(config_cmd.app, name="config")
app.add_typer(runs_cmd.app, name="runs")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"llmorch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="YAML config file (default: $LLMORCH_CONFIG, else ~/.config/llmorch/config.yaml).",
            dir_okay=False,
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logs: -v info, -vv debug.")
    ] = 0,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Logs as JSON lines on stderr, even on a terminal.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Local-first LLM orchestration over your own models and markdown notes.

    Results go to stdout; logs and progress to stderr. Exit codes: 0 ok, 2 usage,
    3 config, 4 LLM unreachable, 5 LLM error, 6 retrieval, 7 tool, 8 ingest, 9 workflow,
    10 run records, 130 interrupted.
    """
    # `main` passes the early start, if the command allowed one, as the context object.
    early = ctx.obj if isinstance(ctx.obj, EarlyStart) else None
    if early is not None:
        ctx.call_on_close(early.close)
    ctx.obj = AppState(config_file=config, verbosity=verbose, log_json=log_json, early=early)
