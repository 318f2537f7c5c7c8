"""The model each server listed first, remembered between runs: a config that names no model
would otherwise cost every command a `/models` request before its first answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from llmorch import paths

_FILE = "served-models.json"


def _file() -> Path:
    return paths.cache_dir() / _FILE


def _read() -> dict[str, str]:
    try:
        data: object = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: asking the server again is always correct
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in cast("dict[object, object]", data).items()}


def remembered(base_url: str) -> str | None:
    """The model `base_url` listed first when last asked, if any."""
    return _read().get(base_url)


def remember(base_url: str, model: str | None) -> None:
    """Keep (or with None, forget) the model `base_url` listed first; best effort."""
    data = _read()
    if model is None:
        data.pop(base_url, None)
    else:
        data[base_url] = model
    try:
        _file().parent.mkdir(parents=True, exist_ok=True)
        tmp = _file().with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(_file())
    except OSError:
        pass  # a read-only cache only means the next run asks the server again
