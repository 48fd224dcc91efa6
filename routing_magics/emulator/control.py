"""The HTTP control surface under /_emulator/, so an emulator in another process can be driven.

    POST   /_emulator/faults     {"kind", "times", "after", "seconds", "retry_after"} → queue it
    DELETE /_emulator/faults     clear the queue          GET /_emulator/faults    the queue
    POST   /_emulator/config     {"plan", "token_rate", "daily_limit", "per_minute_limit",
                                  "latency"} (any subset)
    GET    /_emulator/config     current settings         GET /_emulator/requests  recorded requests
    POST   /_emulator/reset      clear faults, recorded requests and usage counters

Each request must carry the emulator's secret in X-Emulator-Secret, name this emulator in its
Host header and come from no foreign web page (guard.py); the /v1 endpoints need none of that.
"""

from __future__ import annotations

import json
from typing import Any

from .faults import fault_from_json
from .state import EmulatorState

PREFIX = "/_emulator/"


def _faults(state: EmulatorState) -> dict[str, Any]:
    return {"faults": [f.as_dict() for f in state.faults.pending()]}


def handle_control(state: EmulatorState, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    """(status, JSON reply) for a control request; bad input → 400 with {"error": …}."""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return 400, {"error": "body must be JSON"}
    name = path[len(PREFIX) :].strip("/")
    try:
        return _dispatch(state, method, name, body)
    except ValueError as exc:
        return 400, {"error": str(exc)}


def _dispatch(state: EmulatorState, method: str, name: str, body: Any) -> tuple[int, Any]:
    if name == "faults" and method == "POST":
        state.inject(fault_from_json(body))
        return 200, _faults(state)
    if name == "faults" and method == "DELETE":
        state.faults.clear()
        return 200, _faults(state)
    if name == "faults" and method == "GET":
        return 200, _faults(state)
    if name == "config" and method == "POST":
        if not isinstance(body, dict):
            raise ValueError("config must be a JSON object")
        state.configure(body)
        return 200, state.settings()
    if name == "config" and method == "GET":
        return 200, state.settings()
    if name == "requests" and method == "GET":
        return 200, [r.as_dict() for r in state.recorded()]
    if name == "reset" and method == "POST":
        state.reset()
        return 200, {"reset": True}
    return 404, {"error": f"no control endpoint {method} {PREFIX}{name}"}
