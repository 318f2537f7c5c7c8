"""Every built-in module named in BUILTIN_MODULES exposes a described, typed WORKFLOW."""

from __future__ import annotations

import importlib

import pytest

from llmorch.workflows.builtin import BUILTIN_MODULES
from llmorch.workflows.definition import Workflow


@pytest.mark.parametrize("module_name", BUILTIN_MODULES)
def test_builtin_module_exposes_a_described_workflow(module_name: str) -> None:
    workflow = importlib.import_module(module_name).WORKFLOW
    assert isinstance(workflow, Workflow)
    assert workflow.name == module_name.rsplit(".", 1)[1]
    assert workflow.description and "\n" not in workflow.description
    assert workflow.input_model.model_json_schema()["properties"]
    assert len(workflow.definition_hash()) == 16
