# llmorch's Python dependencies by nixpkgs attribute, shared by the package and the dev shell.
# Mirrors `dependencies` and the `dev` extra in pyproject.toml.
ps: {
  runtime = [
    ps.typer
    ps.rich
    ps.prompt-toolkit
    ps.openai
    ps.httpx2
    ps.anthropic
    ps.qdrant-client
    ps.qdrant-edge-py
    ps.pydantic
    ps.pydantic-settings
    ps.loguru
    ps.pyyaml
    ps.platformdirs
    ps.json-repair
    ps.python-frontmatter
    ps.pathspec
    ps.filelock
    ps.starlette
    ps.uvicorn
    ps.mcp
    ps.jsonschema
    ps.python-telegram-bot
    ps.markdown-it-py
  ];
  test = [
    ps.pytest
    ps.pytest-asyncio
    ps.pexpect
    ps.aiosmtpd
  ];
}
