"""Workflows over HTTP: list them with their schemas, run one with validated input, and signed
webhooks that run the workflow they are configured for."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from llmorch.api.bodies import read_body, read_json
from llmorch.api.errors import HttpError
from llmorch.api.handlers import guarded, with_timeout
from llmorch.api.run_routes import status_url
from llmorch.api.security import SIGNATURE_HEADER, bearer_token, check_hmac_signature

if TYPE_CHECKING:
    from llmorch.api.state import ServerState
    from llmorch.config import HookSettings
    from llmorch.workflows.execute import WorkflowOutcome
    from llmorch.workflows.registry import AnyWorkflow


async def list_workflows(request: Request, state: ServerState) -> Response:
    registry = state.registry()
    return JSONResponse(
        {
            "workflows": [describe(w) for w in registry.workflows()],
            "broken": [
                {"source": b.source, "reason": b.reason, "name": b.name} for b in registry.broken()
            ],
        }
    )


def describe(workflow: AnyWorkflow) -> dict[str, Any]:
    return {
        "name": workflow.name,
        "description": workflow.description,
        "source": workflow.source,
        "input_schema": workflow.input_model.model_json_schema(),
        "output_schema": workflow.output_model.model_json_schema(),
        "steps": list(workflow.pipeline.step_names),
    }


async def run_workflow_route(request: Request, state: ServerState) -> Response:
    workflow = _workflow(state, request.path_params["name"])
    wait = _wait(request)
    data = _object(await read_json(request, state.settings.server.max_body_bytes))
    if not wait:
        return await _start_detached(state, workflow, data)
    outcome = await guarded(request, state, lambda: run(state, workflow, data, "http"))
    return JSONResponse(outcome.to_json())


def _wait(request: Request) -> bool:
    value = request.query_params.get("wait", "true").lower()
    if value not in _FLAGS:
        raise HttpError(422, "invalid_request", f"wait must be true or false, not {value!r}")
    return _FLAGS[value]


_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


async def _start_detached(
    state: ServerState, workflow: AnyWorkflow, data: dict[str, Any]
) -> Response:
    """202 with the run's id once its input is valid; the run goes on without the client."""
    from llmorch.runs.ids import new_run_id
    from llmorch.workflows.execute import validate_input

    if not state.settings.runs.enabled:
        raise HttpError(
            409,
            "run_records_off",
            "?wait=false reports the result through the run record, and runs.enabled is false",
        )
    validate_input(workflow, data)  # a bad input is a 422 now, not a failed record later
    run_id = new_run_id()
    timeout_s = state.settings.server.request_timeout_s
    await state.background.start(
        run_id,
        workflow.name,
        lambda: with_timeout(lambda: run(state, workflow, data, "http", run_id=run_id), timeout_s),
    )
    return JSONResponse({"run_id": run_id, "status_url": status_url(run_id)}, 202)


async def webhook(request: Request, state: ServerState) -> Response:
    name = request.path_params["name"]
    hook = state.settings.server.hooks.get(name)
    if hook is None:
        raise HttpError(404, "not_found", f"no webhook named {name!r}")
    body = await read_body(request, state.settings.server.max_body_bytes)
    _check_hook_auth(request, hook, body)
    workflow = _workflow(state, hook.workflow)
    request_json = await _json_after_auth(request, body)
    data = hook_input(hook, request_json)
    outcome = await guarded(request, state, lambda: run(state, workflow, data, "webhook"))
    return JSONResponse(outcome.to_json())


def _check_hook_auth(request: Request, hook: HookSettings, body: bytes) -> None:
    """The signature (or token) is checked on the raw body before anything else reads it."""
    secret = hook.secret.get_secret_value()
    if hook.auth == "hmac":
        check_hmac_signature(body, request.headers.get(SIGNATURE_HEADER), secret)
        return
    token = bearer_token(request.headers.get("authorization"), None) or ""
    if not hmac.compare_digest(token.encode(), secret.encode()):
        raise HttpError(401, "unauthorized", "the webhook token is missing or wrong")


async def _json_after_auth(request: Request, body: bytes) -> Any:
    import json

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise HttpError(415, "unsupported_media_type", "webhook bodies must be JSON")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc


def hook_input(hook: HookSettings, body: Any) -> dict[str, Any]:
    """The workflow's input from the body: each mapped field read at its dotted path, or the
    body itself when no mapping is configured."""
    if not hook.input:
        return _object(body)
    return {field: _at_path(body, path) for field, path in hook.input.items()}


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise HttpError(422, "invalid_request", "the body must be a JSON object: the input fields")
    return {str(k): v for k, v in body.items()}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]


def _at_path(body: Any, path: str) -> Any:
    node = body
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]  # pyright: ignore[reportUnknownVariableType]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):  # pyright: ignore[reportUnknownArgumentType]
            node = node[int(part)]  # pyright: ignore[reportUnknownVariableType]
        else:
            raise HttpError(422, "invalid_request", f"the body has nothing at {path!r}")
    return node  # pyright: ignore[reportUnknownVariableType]


def _workflow(state: ServerState, name: str) -> AnyWorkflow:
    from llmorch.errors import UsageError

    try:
        return state.registry().get(name)
    except UsageError as exc:
        raise HttpError(404, "workflow_not_found", str(exc)) from exc


async def run(
    state: ServerState,
    workflow: AnyWorkflow,
    data: dict[str, Any],
    trigger: str,
    *,
    run_id: str | None = None,
) -> WorkflowOutcome[Any]:
    from llmorch.workflows.execute import run_workflow

    await state.knowledge_if_indexed()
    return await run_workflow(
        workflow, data, state.runtime, trigger=trigger, stream=False, run_id=run_id
    )
