"""`llmorch serve`: the HTTP surface (JSON API, OpenAI-compatible chat, webhooks) as an ASGI app.

Starlette and uvicorn are imported only here and by the `serve` command."""
