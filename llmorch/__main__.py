"""Entry point for `python -m llmorch`."""

from llmorch.cli import main

main()
