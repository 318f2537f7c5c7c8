"""Each model provider maps llmorch's messages to its own wire format behind `ChatModel`."""
