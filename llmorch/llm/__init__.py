"""Talking to OpenAI-compatible model servers: typed messages, one client, the tool loop."""
