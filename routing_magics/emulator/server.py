"""The Emulator handle: a ThreadingHTTPServer on a daemon thread, plus its knobs and faults."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .faults import Fault
from .guard import SECRET_HEADER, new_secret
from .handler import EmulatorHandler
from .state import EmulatorState, RecordedRequest


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Tracks open connections so `stop()` can close idle keep-alive ones too."""

    daemon_threads = True
    request_queue_size = 128
    #: Seconds a connection may sit silent mid-request (or idle between requests).
    socket_timeout: float | None = 60.0
    control_secret = ""
    #: Accept any API key (the standalone emulator), not only rk_ keys; see keys.py.
    any_key = False

    def __init__(
        self, address: tuple[str, int], state: EmulatorState, listener: socket.socket | None = None
    ) -> None:
        super().__init__(address, EmulatorHandler, bind_and_activate=listener is None)
        if listener is not None:  # a socket already bound and listening (Session binds early)
            self.socket.close()
            self.socket, self.server_address = listener, listener.getsockname()
        self.state = state
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.accepted_at: dict[Any, float] = {}
        #: Connections accepted since start (a pooled client reuses a few).
        self.accepted = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.accepted += 1
        self.accepted_at[request] = time.monotonic()
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet for connections the client (or stop()) closed; a traceback otherwise."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Emulator:
    """An offline routing.run on loopback: `with Emulator() as emu: …emu.base_url…`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        plan: str = "premium",
        token_rate: float | None = None,
        daily_limit: int = 1500,
        socket_timeout: float | None = 60.0,
        per_minute_limit: int = 100,
        latency: float = 0.0,
        any_key: bool = False,
    ) -> None:
        self.host = host
        #: Accept any key but one starting with "invalid" (standalone); False: rk_ keys only.
        self.any_key = any_key
        self.port = port
        self.socket_timeout = socket_timeout
        #: Required (header X-Emulator-Secret) by the HTTP control surface under /_emulator/.
        self.control_secret = new_secret()
        self._state = EmulatorState(plan, token_rate, daily_limit, per_minute_limit, latency)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"<Emulator {where} plan={self.plan}>"

    def start(self, *, listener: socket.socket | None = None) -> Emulator:
        """Serve on a daemon thread (on `listener`, a bound listening socket, if given)."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._state.stopping.clear()
        if listener is not None:
            self.host = listener.getsockname()[0]
        self._server = EmulatorHTTPServer((self.host, self.port), self._state, listener)
        self._server.socket_timeout = self.socket_timeout
        self._server.control_secret = self.control_secret
        self._server.any_key = self.any_key
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),  # poll interval: stop() returns within 50 ms
            name=f"routing-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (streams end, stalls wake)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._state.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """E.g. 'http://127.0.0.1:8123/v1'."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def control_headers(self) -> dict[str, str]:
        """Headers for a request to the control surface: `httpx.post(url, headers=…)`."""
        return {SECRET_HEADER: self.control_secret}

    @property
    def plan(self) -> str:
        return self._state.plan

    @plan.setter
    def plan(self, plan: str) -> None:
        self._state.configure({"plan": plan})

    @property
    def token_rate(self) -> float | None:
        """Tokens per second for streams; None streams as fast as the socket takes them."""
        return self._state.token_rate

    @token_rate.setter
    def token_rate(self, rate: float | None) -> None:
        self._state.configure({"token_rate": rate})

    @property
    def daily_limit(self) -> int:
        return self._state.daily_limit

    @daily_limit.setter
    def daily_limit(self, limit: int) -> None:
        self._state.configure({"daily_limit": limit})

    @property
    def pricing(self) -> list[dict[str, Any]]:
        """GET /v1/pricing's `models` entries (USD per million tokens); assign to change them."""
        return self._state.pricing

    @pricing.setter
    def pricing(self, entries: list[dict[str, Any]]) -> None:
        self._state.pricing = list(entries)

    @property
    def per_minute_limit(self) -> int:
        """Chat requests allowed in any 60 s; more get 429 RATE_LIMIT_EXCEEDED + Retry-After."""
        return self._state.per_minute_limit

    @per_minute_limit.setter
    def per_minute_limit(self, limit: int) -> None:
        self._state.configure({"per_minute_limit": limit})

    @property
    def latency(self) -> float:
        """Seconds each chat request waits before its response starts."""
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._state.configure({"latency": seconds})

    @property
    def rate_limited(self) -> int:
        """Chat requests refused by the per-minute limit since the last reset."""
        return self._state.rate_limited

    @property
    def connections(self) -> int:
        """TCP connections accepted since the emulator started."""
        return self._server.accepted if self._server is not None else 0

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every /v1 request so far (control requests excluded), oldest first."""
        return self._state.recorded()

    @property
    def faults(self) -> list[Fault]:
        """Faults still queued."""
        return self._state.faults.pending()

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        after: int = 0,
        seconds: float = 0.0,
        retry_after: float | None = None,
    ) -> None:
        """Queue a fault for the next chat completion(s); see `faults` for the kinds."""
        self._state.inject(Fault(kind, times, after, seconds, retry_after))

    def clear_faults(self) -> None:
        self._state.faults.clear()

    def usage(self) -> tuple[int, int, int]:
        """Chat requests counted (today, this hour, this minute)."""
        return self._state.usage_counts()

    def reset(self) -> None:
        """Clear faults, recorded requests and usage counters; plan and rate stay as set."""
        self._state.reset()
