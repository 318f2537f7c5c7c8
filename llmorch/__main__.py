"""Entry point for `python -m llmorch`."""

from llmorch.cli.app import main

main()
