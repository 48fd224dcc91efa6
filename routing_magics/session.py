"""One notebook's state, shared by `%%route`, `%route` and the panel."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from .api import errors
from .api.catalog import DEFAULT_MODEL, Catalog
from .api.refresh import Refresher
from .budget import Budget
from .config import EMULATOR_KEY, Settings
from .prompt.memory import ChatMemory

if TYPE_CHECKING:
    from .api.account import AccountInfo
    from .api.client import RoutingClient
    from .api.pricing import PriceList
    from .emulator import Emulator
    from .ledger import AnswerCache, Ledger


class Session:
    """One notebook's state: settings, client, catalog, ledger, chat memory and default model."""

    def __init__(self, settings: Settings, *, notebook: str | Callable[[], str]) -> None:
        """`notebook`: this notebook's key, or what to call for it (the shell's, ui/notebook.py)."""
        self.settings = settings
        self._notebook = notebook
        self.catalog = Catalog()
        self.memory = ChatMemory()
        self.default_model = DEFAULT_MODEL
        self.default_tools: tuple[str, ...] = ()  # `%route tools f g`: when a cell names none
        self._emulator: Emulator | None = None
        self._emulator_url: str | None = None
        self._emulator_start: threading.Thread | None = None
        self._emulator_lock = threading.Lock()
        self._client: RoutingClient | None = None
        self._ledger: Ledger | None = None
        self._cache: AnswerCache | None = None
        #: `%route cache on`: single cells answer from the cache too (batches always do).
        self.cache_cells = False
        self._lock = threading.Lock()
        self._catalog_asked = False
        self._ledger_said: str | None = None
        self._model_listeners: list[Callable[[str], None]] = []
        #: GET /pricing, kept a day (with its date: `prices.value.fetched_at`); none on failure.
        self.prices: Refresher[PriceList] = Refresher(
            lambda: self.client.pricing(), max_age=86_400, name="routing-magics-pricing"
        )
        #: GET /user/requests, re-asked at most once a minute; `account_now()` adds what we sent.
        self.account: Refresher[AccountInfo] = Refresher(
            self._fetch_account,
            max_age=60, name="routing-magics-account",
        )  # fmt: skip
        self._sent: list[float] = []  # monotonic times of chat requests sent by this session
        #: Today's budget and the gate every send passes (budget.py).
        self.budget = Budget(lambda: self.ledger, lambda: self.notebook, self.prices)

    @property
    def notebook(self) -> str:
        """Which notebook this session serves: the key of its ledger rows and usage totals."""
        return self._notebook if isinstance(self._notebook, str) else self._notebook()

    @property
    def offline(self) -> bool:
        return self.settings.use_emulator

    def start_emulator(self) -> str:
        """Start the bundled emulator on a free loopback port; returns its base URL at once.

        Only the port is bound here, which takes microseconds; the server, whose imports cost
        tens of milliseconds, comes up on a thread. A request sent meanwhile waits in the
        socket's backlog, so `%load_ext` does not pay for the emulator.
        """
        with self._emulator_lock:
            if self._emulator_url is None:
                listener = socket.create_server(("127.0.0.1", 0), backlog=128)
                self._emulator_url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
                self._emulator_start = threading.Thread(
                    target=self._serve_emulator, args=(listener,),
                    name="routing-magics-emulator-start", daemon=True,
                )  # fmt: skip
                self._emulator_start.start()
            return self._emulator_url

    def _serve_emulator(self, listener: socket.socket) -> None:
        try:
            from .emulator import Emulator

            rate = self.settings.emulator_token_rate
            self._emulator = Emulator(token_rate=rate).start(listener=listener)
        except Exception:
            listener.close()  # connections are refused at once instead of hanging
            raise

    @property
    def emulator(self) -> Emulator | None:
        """The bundled emulator (None with a key); waits for one still starting."""
        start = self._emulator_start
        if start is not None:
            start.join()
        return self._emulator

    def _fetch_account(self) -> AccountInfo:
        from .api.account import parse_account

        return parse_account(self.client.quick_get("/user/requests"))

    def note_request(self) -> None:
        """Count a chat request as sent, so account figures between two fetches stay current."""
        self._sent.append(time.monotonic())

    def account_now(self, wait: float = 0.0) -> AccountInfo | None:
        """The account as last fetched plus the requests sent since; None if never known."""
        info, since = self.account.get(wait), self.account.started_at
        if info is None or since is None:
            return None
        return info.spent(sum(1 for sent in self._sent if sent > since))

    def configure(self, settings: Settings) -> None:
        """Swap settings (e.g. after `%route key`); client and ledger are rebuilt on next use."""
        self.prices.invalidate()
        self.account.invalidate()
        with self._lock:
            old, self.settings = self.settings, settings
            self._release("_client")
            if settings.usage_db != old.usage_db:
                self._release("_ledger", "_cache")
            if self._emulator_start is not None and self.emulator is not None:
                self.emulator.token_rate = settings.emulator_token_rate

    @property
    def ledger_path(self) -> str:
        from .ledger import default_ledger_path

        return self.settings.usage_db or str(default_ledger_path())

    @property
    def client(self) -> RoutingClient:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def pooled_client(self, size: int) -> RoutingClient:
        """A new client keeping `size` connections alive, for a batch (the caller closes it).

        One attempt per request: the batch paces and retries rows itself."""
        return self._make_client(pool=size, max_attempts=1)

    def _make_client(self, pool: int = 0, max_attempts: int = 3) -> RoutingClient:
        from .api.client import RoutingClient
        from .api.transport import Timeouts

        timeouts = Timeouts(answer=self.settings.answer_deadline)
        if self.offline:
            # Offline, only a loopback fallback makes sense: a second emulator, for failover demos.
            fallback = self.settings.fallback_base_url or ""
            local = fallback.startswith(("http://127.0.0.1:", "http://localhost:"))
            return RoutingClient(
                EMULATOR_KEY, self.start_emulator(), fallback_base_url=fallback if local else None,
                timeouts=timeouts, pool=pool, max_attempts=max_attempts,
            )  # fmt: skip
        s = self.settings
        return RoutingClient(
            s.api_key, s.base_url, fallback_base_url=s.fallback_base_url,
            timeouts=timeouts, pool=pool, max_attempts=max_attempts,
        )  # fmt: skip

    @property
    def cache(self) -> AnswerCache:
        """The answers cache, in the ledger's file."""
        from .ledger import AnswerCache

        with self._lock:
            if self._cache is None:
                self._cache = AnswerCache(self.ledger_path)
            return self._cache

    @property
    def ledger(self) -> Ledger:
        from .ledger import Ledger

        with self._lock:
            if self._ledger is None:
                self._ledger = Ledger(self.ledger_path)
            return self._ledger

    def ledger_trouble(self, problem: Exception) -> str | None:
        """The line to show for a ledger that failed: once per session and reason, else None."""
        said, self._ledger_said = self._ledger_said, str(problem)
        with self._lock:  # reopened on next use: the user may have moved the file aside
            self._release("_ledger", "_cache")
        return None if said == str(problem) else str(problem)

    def use_model(self, model: str) -> str:
        """Make `model` this notebook's default and tell the listeners (the panel's picker)."""
        self.default_model = self.check_model(model)
        for listener in list(self._model_listeners):
            listener(self.default_model)
        return self.default_model

    def add_model_listener(self, listener: Callable[[str], None]) -> None:
        """Call `listener` with the new default model after each `use_model` (the pickers)."""
        self._model_listeners.append(listener)

    def remove_model_listener(self, listener: Callable[[str], None]) -> None:
        self._model_listeners = [f for f in self._model_listeners if f != listener]

    def check_model(self, model: str | None) -> str:
        """The model to call: the given id or the default; unknown ids fail before any request."""
        model = model or self.default_model
        if model in self.catalog:
            return model
        if not self.offline and not self._catalog_asked:
            self.refresh_catalog()
            if model in self.catalog:
                return model
        close = self.catalog.suggest(model)
        hint = f"did you mean {', '.join(close)}?" if close else "run `%route models` for the list"
        raise errors.ConfigurationError(f"unknown model {model!r}", hint=hint, code="INVALID_MODEL")

    def refresh_catalog(self) -> None:
        """Merge GET /models into the catalog; a failure leaves the built-in table as it is."""
        self._catalog_asked = True  # an unknown id asks the service once per session, not per cell
        with contextlib.suppress(errors.RoutingError):
            self.catalog.merge(self.client.list_models())

    def _release(self, *names: str) -> None:
        """Close and forget these lazily opened parts (client, ledger, cache)."""
        for name in names:
            part = getattr(self, name)
            if part is not None:
                part.close()
                setattr(self, name, None)

    def close(self) -> None:
        """Release the client, the ledger and the emulator; later use opens them anew."""
        self._release("_client", "_ledger", "_cache")
        emulator = self.emulator
        if emulator is not None:
            emulator.stop()
        self._emulator = self._emulator_url = self._emulator_start = None


class LoadedExtension(Protocol):
    """What `%load_ext routing_magics` leaves in a shell (ui.magics.RouteMagics), seen from here."""

    session: Session


# Per shell, not one per process: a kernel has one shell, but tests and embedding apps make more.
_LOADED: dict[object, LoadedExtension] = {}


def loaded_session(shell: object | None = None) -> Session | None:
    """The session `%load_ext routing_magics` made in `shell` (default: the running IPython)."""
    if shell is None:
        ipython = sys.modules.get("IPython")  # not imported: a script, with no shell to ask
        shell = ipython.get_ipython() if ipython is not None else None
    loaded = _LOADED.get(shell) if shell is not None else None
    return loaded.session if loaded is not None else None


def remember_loaded(shell: object, extension: LoadedExtension) -> LoadedExtension | None:
    """Note `extension` as loaded in `shell`; returns the one it replaces, if any."""
    replaced = _LOADED.get(shell)
    _LOADED[shell] = extension
    return replaced


def forget_loaded(shell: object) -> LoadedExtension | None:
    """Take `shell`'s extension off the record (`%unload_ext`); returns it, if one was loaded."""
    return _LOADED.pop(shell, None)
