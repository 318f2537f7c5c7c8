"""`LlmClient`, the name the OpenAI-compatible model had before providers: kept for callers."""

from llmorch.llm.providers.openai_compat import PLACEHOLDER_API_KEY
from llmorch.llm.providers.openai_compat import OpenAICompatModel as LlmClient

__all__ = ["PLACEHOLDER_API_KEY", "LlmClient"]
