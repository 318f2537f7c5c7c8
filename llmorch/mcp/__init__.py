"""llmorch as an MCP server: the notes' tools, `ask` and the workflows, and notes as resources,
over stdio (`llmorch mcp`) or streamable HTTP (mounted at /mcp by `serve`)."""
