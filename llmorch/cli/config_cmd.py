"""`llmorch config`: show effective settings and where each came from, print the path, write the example."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from llmorch.cli import render
from llmorch.cli.state import AppState
from llmorch.errors import ConfigError

app = typer.Typer(help="Inspect and create the configuration.", no_args_is_help=True)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{dotted}."))  # pyright: ignore[reportUnknownArgumentType]
        else:
            flat[dotted] = value
    return flat


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Effective settings, secrets redacted, with the source of each value.

    Example: llmorch config show
    """
    loaded = ctx.ensure_object(AppState).load()
    dumped = loaded.settings.model_dump(mode="json", by_alias=True)
    rows = [(key, value, loaded.origin(key)) for key, value in sorted(_flatten(dumped).items())]
    if as_json:
        render.print_json({key: {"value": value, "source": src} for key, value, src in rows})
        return
    render.settings_table(rows, loaded.file)


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the config file llmorch reads (it may not exist yet).

    Example: llmorch config path
    """
    from llmorch.config import resolve_config_file

    file, _ = resolve_config_file(ctx.ensure_object(AppState).config_file)
    typer.echo(str(file))


@app.command("init")
def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the commented example config to the config path.

    Example: llmorch config init && $EDITOR "$(llmorch config path)"
    """
    from llmorch.config import resolve_config_file

    state = ctx.ensure_object(AppState)
    target: Path = resolve_config_file(state.config_file)[0]
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists", hint="pass --force to overwrite it")
    example = resources.files("llmorch").joinpath("config.example.yaml").read_text("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(example, encoding="utf-8")
    render.err().print(f"wrote {target}", markup=False, highlight=False)
