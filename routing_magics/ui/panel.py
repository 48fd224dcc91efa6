"""The ipywidgets panel: a second thin shell over run.run_prompt, beside `%%route`.

Send runs the request on a daemon thread so the kernel stays free; Stop closes the stream from
the kernel's thread (ChatStream.close is thread-safe). Every exception from a button, an
observer or the worker lands in the error line: ipywidgets would log it where nobody looks.
nbval records a displayed panel as text/plain (our fixed repr) plus a widget-view model id that
changes every run and that nbval skips; the answer lives in widgets (comm messages, unrecorded).
"""

from __future__ import annotations

import functools
import html
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

import ipywidgets as widgets

from ..api import errors
from ..display.live import LiveView
from ..display.sinks import WidgetSink
from ..display.tables import usage_table
from ..prompt.frames import DEFAULT_ROWS, is_frame
from ..run import RunOptions, run_prompt
from ..session import Session
from .advice import notebook_message
from .panel_choices import NO_CONTEXT, context_choices, context_size, route_label
from .panel_jobs import JobsList
from .usage import model_costs

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..api.models import Completion
    from ..api.stream import ChatStream

log = logging.getLogger(__name__)

P = ParamSpec("P")


def reported(
    method: Callable[Concatenate[RoutePanel, P], None],
) -> Callable[Concatenate[RoutePanel, P], None]:
    """Run a handler; its exception goes to the panel's error line, not the log console."""

    @functools.wraps(method)
    def run(panel: RoutePanel, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(panel, *args, **kwargs)
        except Exception as exc:
            panel.show_error(exc)

    return run


def _descendants(box: widgets.Box) -> Iterator[widgets.Widget]:
    """Every widget under `box`, with the layout and style widgets each one owns."""
    for child in box.children:
        if isinstance(child, widgets.Box):
            yield from _descendants(child)
        yield from (w for w in (child.layout, getattr(child, "style", None)) if w is not None)
        yield child


class RoutePanel(widgets.VBox):
    """Model picker, settings, context, prompt, Send/Stop, the streaming answer, usage totals."""

    def __init__(
        self, session: Session, shell: InteractiveShell | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.add_class("routing-magics-panel")
        self._session, self._shell = session, shell
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._stream: ChatStream | None = None
        self._busy = self._stop_requested = False
        self._syncing = False  # set while the picker follows the session, not the user
        #: The last answer and the last exception shown, for scripted use.
        self.result: Completion | None = None
        self.last_error: BaseException | None = None
        self._compose()
        self._connect()
        self.refresh_context()
        self.refresh_usage()

    def _compose(self) -> None:
        wide = widgets.Layout(width="100%")
        self.model_picker = widgets.Dropdown(description="model", layout=wide)
        self._sync_model(self._session.default_model)
        self.system = widgets.Textarea(placeholder="System prompt (optional)", rows=2, layout=wide)
        self.set_temperature = widgets.Checkbox(False, description="temperature", indent=False)
        self.temperature = widgets.FloatSlider(0.7, min=0.0, max=2.0, step=0.05, disabled=True)
        self.max_tokens = widgets.BoundedIntText(0, min=0, max=10**7, description="max tokens")
        self.chat = widgets.Checkbox(False, description="continue the conversation", indent=False)
        self.context = widgets.Dropdown(description="context")
        self.refresh = widgets.Button(description="↻", layout={"width": "3em"})
        self.context_size = widgets.Label()
        self.prompt = widgets.Textarea(placeholder="Ask… ({name} inserts a variable)", layout=wide)
        self.send_button = widgets.Button(description="Send", button_style="primary")
        self.stop_button = widgets.Button(description="Stop", disabled=True)
        self.error, self.answer, self.usage = widgets.HTML(), widgets.VBox(), widgets.HTML()
        self.jobs = JobsList(self._session)  # background jobs, a Stop button each
        settings = [self.set_temperature, self.temperature, self.max_tokens, self.chat]
        context = [self.context, self.refresh, self.context_size]
        self.children = (
            *(self.model_picker, self.system, widgets.HBox(settings), widgets.HBox(context)),
            *(self.prompt, widgets.HBox([self.send_button, self.stop_button])),
            *(self.error, self.answer, self.usage, self.jobs),
        )

    def _connect(self) -> None:
        self.model_picker.observe(self._on_pick, names="value")
        not_ = {"transform": lambda checked: not checked}
        widgets.dlink((self.set_temperature, "value"), (self.temperature, "disabled"), **not_)
        for widget in (self.model_picker, self.context, self.max_tokens):
            widget.observe(self._show_context_size, names="value")
        self.refresh.on_click(self.refresh_context)
        self.send_button.on_click(lambda _: self.send())
        self.stop_button.on_click(lambda _: self.stop())
        self._session.add_model_listener(self._on_model_used)

    def __repr__(self) -> str:
        # ipywidgets' text/plain is repr(): keep it short and free of per-run state (nbval).
        picker = getattr(self, "model_picker", None)
        return f"RoutePanel(model={picker.value if picker is not None else None})"

    def _sync_model(self, model: str) -> None:
        """Options from the catalog (plus `model` if it is not there); select `model`."""
        options = [(route_label(r), r.id) for r in self._session.catalog]
        if model not in {value for _, value in options}:
            options.append((model, model))
        self._syncing = True
        try:
            if list(self.model_picker.options) != options:
                self.model_picker.options = options
            self.model_picker.value = model
        finally:
            self._syncing = False

    @reported
    def _on_pick(self, change: Mapping[str, Any]) -> None:
        if not self._syncing and change["new"] != self._session.default_model:
            self._session.use_model(change["new"])

    @reported
    def _on_model_used(self, model: str) -> None:
        """`%route use …` (or anything calling session.use_model) moves the picker."""
        self._sync_model(model)

    def _namespace(self) -> Mapping[str, object]:
        return self._shell.user_ns if self._shell is not None else {}

    @reported
    def refresh_context(self, *_: object) -> None:
        """List the notebook's DataFrames and strings again, keeping the choice if it is there."""
        chosen, choices = self.context.value, context_choices(self._namespace())
        self.context.options = choices
        self.context.value = chosen if chosen in {v for _, v in choices} else NO_CONTEXT
        self._show_context_size()

    @reported
    def _show_context_size(self, *_: object) -> None:
        name, namespace = self.context.value, self._namespace()
        if not name or name not in namespace:
            self.context_size.value = ""
            return
        self.context_size.value = context_size(
            name,
            namespace[name],
            context_tokens=self._session.catalog.context_of(self.model_picker.value),
            max_tokens=self.max_tokens.value or None,
            other_text=self.system.value + self.prompt.value,
        )

    @reported
    def refresh_usage(self, *_: object) -> None:
        session, notebook = self._session, self._session.notebook  # one key for rows and title
        totals = session.ledger.totals_by_model(notebook)
        costs = model_costs(session.prices.value, totals)  # no wait: known prices or none
        title = f"Usage of {notebook}"
        self.usage.value = usage_table(totals, title=title, costs=costs)["text/html"]

    def _request(self) -> tuple[str, RunOptions]:
        """The template and options from the widgets' values now."""
        prompt, name, namespace = self.prompt.value, self.context.value, self._namespace()
        if not prompt.strip() and not name:
            raise errors.ConfigurationError("the prompt is empty", hint="write a question first")
        if name and name not in namespace:
            raise errors.ConfigurationError(
                f"{name} is no longer defined in the notebook", hint="press ↻ and choose again"
            )
        as_frame = bool(name) and is_frame(namespace[name])
        if name and not as_frame:
            # By `{name}`, not pasted: interpolated text is never scanned again for `{…}`.
            prompt = f"{prompt.rstrip()}\n\n{{{name}}}" if prompt.strip() else f"{{{name}}}"
        return prompt, RunOptions(
            model=self.model_picker.value,
            system=self.system.value.strip() or None,
            temperature=self.temperature.value if self.set_temperature.value else None,
            max_tokens=self.max_tokens.value or None,
            df=name if as_frame else None,
            rows=DEFAULT_ROWS,
            chat=self.chat.value,
        )

    @property
    def running(self) -> bool:
        return self._busy

    @reported
    def send(self, prompt: str | None = None) -> None:
        """Send the prompt (or `prompt`, which replaces the box's text) on a worker thread."""
        if prompt is not None:
            self.prompt.value = prompt
        with self._lock:
            if self.running:
                raise errors.ConfigurationError("a request is running", hint="Stop it first")
            template, options = self._request()
            self._stop_requested, self._stream, self.result = False, None, None
            self.error.value = ""
            for child in _descendants(self.answer):
                child.close()
            self.answer.children = ()
            self._set_busy(True)
            work = functools.partial(self._work, template, options)
            self._worker = threading.Thread(target=work, name="routing-magics-panel", daemon=True)
            self._worker.start()

    def _work(self, template: str, options: RunOptions) -> None:
        try:
            view = LiveView(WidgetSink(self.answer))
            self.result = run_prompt(
                self._session, template, options, self._namespace(), view, on_stream=self._keep
            )
        except Exception as exc:
            self.show_error(exc)
        finally:
            self.refresh_usage()
            with self._lock:  # so a Send right after this cannot be undone by this thread
                self._stream = None
                self._set_busy(False)

    def _keep(self, stream: ChatStream) -> None:
        """run_prompt's on_stream: hold the stream for Stop (which may already have come)."""
        with self._lock:
            self._stream, stop = stream, self._stop_requested
        if stop:
            stream.close()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.send_button.disabled = busy
        self.stop_button.disabled = not busy

    def stop(self) -> None:
        """Stop the running request; the partial answer stays, marked stopped."""
        with self._lock:
            self._stop_requested, stream = True, self._stream
        if stream is not None:
            stream.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker; True when no request is running any more."""
        if self._worker is not None:
            self._worker.join(timeout)
        return not self._busy

    def show_error(self, exc: BaseException) -> None:
        """Put `exc` on the error line (escaped: messages may quote model or server text)."""
        self.last_error = exc
        if isinstance(exc, errors.Stopped):
            return  # not an error: the answer view already says "stopped" under the partial text
        if isinstance(exc, errors.RoutingError):
            text = notebook_message(exc)
        else:
            log.warning("routing_magics panel: unexpected error", exc_info=exc)
            text = f"{type(exc).__name__}: {exc}"
        self.error.value = (
            '<div class="routing-magics-error" '
            f'style="color:var(--jp-error-color1,#c62828)">{html.escape(text)}</div>'
        )

    def close(self) -> None:
        """Stop any request, leave the session's listeners, close every widget of the panel."""
        if hasattr(self, "_lock"):  # ipywidgets also calls close() from __del__
            self.stop()
            self._session.remove_model_listener(self._on_model_used)
            for child in _descendants(self):
                child.close()
        super().close()
