"""The command-line interface: thin commands that parse, build context, call a workflow and render."""
