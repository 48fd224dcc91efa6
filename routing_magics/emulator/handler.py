"""The HTTP handler: routing.run's endpoints, auth, plain-text errors, streamed completions."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from .answers import compose_answer, prompt_tokens
from .bodies import BodyTooLarge, read_request_body
from .control import PREFIX, handle_control
from .emission import Emission, plan_emission
from .faults import MIDSTREAM_ERROR_TEXT, Fault
from .guard import control_refusal
from .keys import key_accepted, refusal_text, sent_key
from .state import EmulatorState, RecordedRequest, admission_refusal, recordable_headers
from .streaming import ClientGone, DropConnection, EventStream
from .structured import asks_for_structure
from .wire import (
    ROUTES,
    ChatRequest,
    RequestError,
    ResponseMeta,
    json_or_none,
    model_detail,
    models_list,
    parse_chat_request,
    route_for,
    usage_body,
    usage_report,
)


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "routing-run-emulator"
    sys_version = ""
    _responded = False

    @property
    def state(self) -> EmulatorState:
        state = getattr(self.server, "state", None)
        assert isinstance(state, EmulatorState)
        return state

    def setup(self) -> None:
        # When this connection's first request arrived: accepted then, however late the
        # handler thread gets to run. Later keep-alive requests are stamped as they are read.
        self.arrived = getattr(self.server, "accepted_at", {}).pop(self.request, time.monotonic())
        self._requests_read = 0
        # A client that announces a body and never sends it must not hold a thread forever.
        self.timeout = getattr(self.server, "socket_timeout", None)  # type: ignore[misc]
        super().setup()
        # Each SSE event must leave at once; without this, Nagle plus delayed ACKs add ~40 ms
        # between a response's headers and its body on keep-alive connections.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: nothing on stderr per request (and so nothing that could carry a key)."""

    def parse_request(self) -> bool:
        self._requests_read += 1
        if self._requests_read > 1:
            self.arrived = time.monotonic()
        return super().parse_request()

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        self._responded = False
        try:
            raw = self._read_body()
            path = urlsplit(self.path).path.rstrip("/") or "/"
            if path.startswith(PREFIX.rstrip("/")):
                self._control(method, path, raw)
                return
            headers = recordable_headers(list(self.headers.items()))
            self.state.record(RecordedRequest(method, path, json_or_none(raw), headers))
            self._route(method, path, raw, started)
        except (ClientGone, DropConnection, OSError):
            self.close_connection = True  # client went away, or a drop fault: no more output
        except Exception:
            sys.stderr.write(traceback.format_exc())
            if not self._responded:
                with contextlib.suppress(ClientGone):
                    self._send_text(500, "INTERNAL_ERROR", "Emulator error")
            self.close_connection = True

    def _control(self, method: str, path: str, raw: bytes) -> None:
        server = self.server
        secret = getattr(server, "control_secret", "")
        host, port = self.connection.getsockname()[:2]
        refusal = control_refusal(self.headers, secret, str(host), int(port))
        if refusal is not None:
            self.close_connection = True
            body = json.dumps({"error": refusal[1]}).encode()
            self._send(refusal[0], "application/json", body, {"Connection": "close"})
            return
        self._send_json(*handle_control(self.state, method, path, raw))

    def _read_body(self) -> bytes:
        try:
            return read_request_body(self.rfile, self.headers)
        except BodyTooLarge as exc:
            self._send_text(413, "REQUEST_TOO_LARGE", str(exc))
            raise DropConnection from None

    def _route(self, method: str, path: str, raw: bytes, started: float) -> None:
        if path == "/v1/chat/completions":
            if method != "POST":
                return self._send_text(405, "METHOD_NOT_ALLOWED", "Use POST")
            return self._chat(raw, started)
        if method == "GET" and path == "/v1/models":
            return self._models()
        if method == "GET" and path.startswith("/v1/models/"):
            return self._model(path[len("/v1/models/") :])
        if method == "GET" and path == "/v1/user/requests":
            return self._user_requests()
        if method == "GET" and path == "/v1/pricing":
            if not self._credential():
                return self._refuse_auth()
            return self._send_json(200, {"models": self.state.pricing})
        self._send_text(404, "NOT_FOUND", f"Not found: {method} {path}")

    def _credential(self) -> bool | None:
        """None when no key was sent, else whether this emulator takes the key (keys.py)."""
        return key_accepted(sent_key(self.headers), self._any_key)

    def _refuse_auth(self) -> None:
        message = refusal_text(sent_key(self.headers), self._any_key)
        self._send_text(401, "AUTHENTICATION_ERROR", message)

    @property
    def _any_key(self) -> bool:
        return bool(getattr(self.server, "any_key", False))

    def _models(self) -> None:
        credential = self._credential()
        if credential is False:
            return self._refuse_auth()
        plan = self.state.plan if credential else "free"
        self._send_json(200, models_list(plan))

    def _model(self, model: str) -> None:
        if not self._credential():
            return self._refuse_auth()
        route = ROUTES.get(model)
        if route is None:
            return self._send_json(404, {"error": "Model not found"})
        self._send_json(200, model_detail(route, self.state.plan))

    def _user_requests(self) -> None:
        if not self._credential():
            return self._refuse_auth()
        s = self.state
        report = usage_report(s.plan, s.daily_limit, s.usage_counts(), s.per_minute_limit)
        self._send_json(200, report)

    def _chat(self, raw: bytes, started: float) -> None:
        if not self._credential():
            return self._refuse_auth()
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return self._send_text(400, "INVALID_REQUEST", f"Malformed JSON body: {exc}")
        try:
            request = parse_chat_request(body)
        except RequestError as exc:
            return self._send_text(400, exc.code, exc.message)
        state = self.state
        refusal = admission_refusal(state, state.admit())
        if refusal is not None:
            return self._send_text(429, *refusal)
        self._sleep(state.latency)  # a fixed upstream delay, before any byte of the answer
        structured = asks_for_structure(request.messages, request.tools, request.tool_choice)
        fault = state.faults.take(self.arrived, structured)
        if fault is not None and fault.is_error:
            retry_after = fault.retry_after_header()
            return self._send_text(fault.status, fault.kind, fault.message, retry_after)
        self._answer(request, fault, started)

    def _answer(self, request: ChatRequest, fault: Fault | None, started: float) -> None:
        route, refusal = route_for(request.model, self.state.plan)
        if route is None:
            assert refusal is not None
            return self._send_text(*refusal)
        careless = fault is not None and fault.spoils_answer
        answer = compose_answer(
            request.messages, request.tools, request.tool_choice,
            reasoning=route.reasoning, careless=careless,
        )  # fmt: skip
        fault = None if careless else fault  # spent on the answer's words
        emission = plan_emission(answer, request.max_tokens)
        usage = usage_body(prompt_tokens(request.messages), emission.completion_tokens)
        provider = route.providers[0] if route.providers else "routing.run"
        chat_id = f"chatcmpl_{uuid.uuid4().hex[:26]}"
        meta = ResponseMeta(chat_id, int(time.time()), route.id, provider, route.reasoning)
        if fault is not None and fault.fires_before_headers(request.stream):
            if fault.kind == "drop":
                raise DropConnection
            self._sleep(fault.seconds)
            fault = None
        if request.stream:
            self._stream(meta, emission, fault, usage if request.include_usage else None)
        else:
            self._complete(meta, emission, fault, usage, started)

    def _sleep(self, seconds: float) -> None:
        """Sleep, but give up at once if the emulator stops."""
        if seconds > 0 and self.state.stopping.wait(seconds):
            raise ClientGone("emulator stopping")

    def _complete(
        self,
        meta: ResponseMeta,
        emission: Emission,
        fault: Fault | None,
        usage: dict[str, int],
        started: float,
    ) -> None:
        if fault is not None and fault.kind == "midstream_error":
            return self._send_text(502, "PROVIDER_ERROR", MIDSTREAM_ERROR_TEXT)
        if fault is not None and fault.kind == "slow":
            # A slow provider, unstreamed: the whole answer takes `seconds` per token.
            self._sleep(fault.seconds * emission.completion_tokens)
        latency_ms = int((time.monotonic() - started) * 1000)
        self._send_json(200, meta.completion(emission, usage, latency_ms))

    def _stream(
        self,
        meta: ResponseMeta,
        emission: Emission,
        fault: Fault | None,
        usage: dict[str, int] | None,
    ) -> None:
        rate = self.state.token_rate
        delay = 1.0 / rate if rate else 0.0
        if fault is not None and fault.kind == "slow":
            delay, fault = fault.seconds, None
        self._responded = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        # The chunked body ends cleanly, so the connection can serve the client's next request
        # (a batch's pooled client); a drop or a gone client closes it in _handle.
        EventStream(self._write, meta, delay, self.state.stopping).run(emission, fault, usage)

    # --- output -----------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as exc:  # BrokenPipe, ConnectionReset, or the emulator closed it
            raise ClientGone(str(exc)) from None

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str]) -> None:
        self._responded = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self._write(body)

    def _send_text(
        self, status: int, code: str, message: str, retry_after: str | None = None
    ) -> None:
        headers = {"X-Error-Code": code}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        self._send(status, "text/plain; charset=utf-8", message.encode(), headers)

    def _send_json(self, status: int, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._send(status, "application/json", body, {})
