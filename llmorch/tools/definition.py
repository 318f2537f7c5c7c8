"""What a tool looks like to a model: the one type the tools and the model layer share.

It lives here, below the model code, so tools never import `llm` and the tool loop in `llm` can
depend on tools without a cycle; how it goes over the wire is each provider's business.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ToolDefinition(BaseModel):
    """A tool as the model sees it: name, description and a JSON Schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
