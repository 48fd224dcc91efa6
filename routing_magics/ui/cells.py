"""What each cell printed, returned and raised, kept for `{Err[n]}`, `--cells N` and `%route fix`.

Recorded through IPython's `pre_run_cell`/`post_run_cell` events (no global exception hook):
while a cell runs, its stdout is copied (up to OUTPUT_CHARS) and its displays are noted
(images and widgets by name only); afterwards the ExecutionResult gives the result and the
error (`error_before_exec` or `error_in_exec`), made compact: type, message, last frames.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from ..prompt.history import CellText, HistoryKind, NotebookContext

if TYPE_CHECKING:
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult, InteractiveShell

OUTPUT_CHARS = 4_000
FRAMES = 3
KEEP = 200
_INTERNALS = ("/IPython/", "/ipykernel/", "\\IPython\\", "\\ipykernel\\")


@dataclass(frozen=True)
class CellEntry:
    number: int | None
    code: str
    output: str  # stdout, displays' text (images and widgets named), the result's text
    error: str | None  # compact: type and message, then the last frames
    result: str | None = None  # the result's text, if the cell had one


class _Tee:
    """sys.stdout while a cell runs: writes through, keeps the first OUTPUT_CHARS."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.kept: list[str] = []
        self.size = 0
        self.paused = False
        self.thread = threading.get_ident()  # a background job's prints are not this cell's

    def write(self, text: str) -> int:
        if self.size < OUTPUT_CHARS and not self.paused and threading.get_ident() == self.thread:
            self.kept.append(text[: OUTPUT_CHARS - self.size])
            self.size += len(self.kept[-1])
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def compact_error(exc: BaseException, name_of: Callable[[str], str] = str) -> str:
    """`ZeroDivisionError: division by zero`, then up to FRAMES of the user's frames."""
    message = " ".join(str(exc).split())[:300]
    lines = [f"{type(exc).__name__}: {message}" if message else type(exc).__name__]
    if isinstance(exc, SyntaxError) and exc.lineno:
        lines[0] = f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
        lines += [f"    {exc.text.strip()}"] if exc.text and exc.text.strip() else []
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not any(p in f.filename for p in _INTERNALS)
    ]
    for frame in frames[-FRAMES:]:
        where = f"{name_of(frame.filename)}, line {frame.lineno}, in {frame.name}"
        lines.append(f"  {where}" + (f": {frame.line.strip()}" if frame.line else ""))
    return "\n".join(lines)


class CellLog:
    """The last KEEP cells of this shell, by execution count; attach() starts recording."""

    def __init__(self) -> None:
        self.entries: deque[CellEntry] = deque(maxlen=KEEP)
        self.last_failure: CellEntry | None = None
        self._shell: InteractiveShell | None = None
        self._tee: _Tee | None = None
        self._displays: list[str] = []
        self._current: int | None = None  # the running cell's number; None if not numbered
        self._count = 0  # the shell's execution count when the running cell began
        self._saved: list[tuple[object, str, object]] = []  # instance attributes we replaced

    def attach(self, shell: InteractiveShell) -> None:
        self._shell = shell
        shell.events.register("pre_run_cell", self._before)
        shell.events.register("post_run_cell", self._after)

    def detach(self) -> None:
        shell, self._shell = self._shell, None
        if shell is not None:
            shell.events.unregister("pre_run_cell", self._before)
            shell.events.unregister("post_run_cell", self._after)

    def _before(self, info: ExecutionInfo) -> None:
        shell = self._shell
        assert shell is not None  # events arrive only while attached
        # IPython has counted a numbered cell before this event: it is execution_count - 1.
        self._count = shell.execution_count
        self._current = self._count - 1 if info.store_history else None
        tee = self._tee = _Tee(sys.stdout)
        sys.stdout = tee
        self._displays = []
        publish = shell.display_pub.publish

        def noting(data: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            metadata = kwargs.get("metadata", args[0] if args else None) or {}
            # Our own footers (latency, totals) are noise to a model reading the cell; a
            # background job's displays (another thread) belong to the cell that started it.
            mine = threading.get_ident() == tee.thread
            if mine and not kwargs.get("update") and "routing_magics" not in metadata:
                self._displays.append(_display_text(data))
            return publish(data, *args, **kwargs)

        def quiet(show: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                tee.paused = True  # a terminal shell prints tracebacks: the error says it
                try:
                    return show(*args, **kwargs)
                finally:
                    tee.paused = False

            return wrapped

        patches = {
            (shell.display_pub, "publish"): noting,
            (shell, "showtraceback"): quiet(shell.showtraceback),
            (shell, "showsyntaxerror"): quiet(shell.showsyntaxerror),
        }
        self._saved = [(owner, name, vars(owner).get(name)) for owner, name in patches]
        for (owner, name), patch in patches.items():
            setattr(owner, name, patch)  # on the instance, for this cell only

    @property
    def current(self) -> int | None:
        """The running cell's number; None if it is not numbered (nbval) or none runs."""
        return self._current if self._tee is not None else None

    def _after(self, result: ExecutionResult) -> None:
        tee, self._tee = self._tee, None
        if tee is not None and sys.stdout is tee:
            sys.stdout = tee.stream
        for owner, name, before in self._saved:
            if before is None:
                vars(owner).pop(name, None)  # back to the class's method
            else:
                setattr(owner, name, before)
        self._saved = []
        error = result.error_before_exec or result.error_in_exec
        value = None if result.result is None else self._result_text(result.result)
        parts = ["".join(tee.kept) if tee else "", *filter(None, self._displays), value or ""]
        entry = CellEntry(
            self._current,
            result.info.raw_cell if result.info is not None else "",
            "\n".join(p.rstrip("\n") for p in parts if p.strip())[: 2 * OUTPUT_CHARS],
            compact_error(error, self._cell_name) if error is not None else None,
            value,
        )
        self.entries.append(entry)
        if entry.error is not None:
            self.last_failure = entry

    def _result_text(self, value: object) -> str:
        if self._shell is None or self._shell.display_formatter is None:
            return repr(value)
        data, _ = self._shell.display_formatter.format(value)
        return _display_text(data)

    def _cell_name(self, filename: str) -> str:
        """`In[5]` for a numbered cell's code, `cell` for an unnumbered one, else the file."""
        compiler = getattr(self._shell, "compile", None)
        named = getattr(compiler, "format_code_name", lambda name: None)(filename)
        if named:
            return named[1] if self._current is not None else "cell"
        return filename.rsplit("/", 1)[-1]

    def lookup(self, kind: HistoryKind, index: int) -> str | None:
        """`{In[n]}`, `{Out[n]}`, `{Err[n]}`. A negative n counts back over the cells run since
        `%load_ext`, numbered or not (nbval runs cells without history), then by number."""
        shell = self._shell
        if shell is None:
            return None
        number = index
        if index < 0:
            entry = self.entries[index] if -index <= len(self.entries) else None
            if entry is not None and (kind != "Out" or entry.number is None):
                return {"In": entry.code, "Err": entry.error, "Out": entry.result}[kind]
            if entry is not None and entry.number is not None:
                number = entry.number  # Out of a numbered cell: as IPython keeps it
            elif self._current is not None:
                number = self._current + index  # before %load_ext: by number
            else:
                return None
        if kind == "Err":
            found = [e.error for e in self.entries if e.number == number]
            return found[-1] if found else None
        if kind == "In":
            inputs = shell.history_manager.input_hist_raw if shell.history_manager else []
            return str(inputs[number]) if 0 < number < len(inputs) else None
        outputs = shell.user_ns.get("Out")
        if not isinstance(outputs, dict) or number not in outputs:
            return None
        from ..prompt.prepare import render_value

        return render_value(f"Out[{number}]", outputs[number])

    def context(self, cells: int = 0) -> NotebookContext:
        """The lookup, and the last `cells` cells before the running one."""
        recent = list(self.entries)[-cells:] if cells > 0 else []
        texts = tuple(
            # An unnumbered cell (nbval runs cells so) is named by its place: [-1] is the last.
            CellText(
                e.number if e.number is not None else back - len(recent),
                e.code,
                "\n".join(filter(None, [e.output, e.error])),
            )
            for back, e in enumerate(recent)
        )
        return NotebookContext(self.lookup, texts)


def _display_text(data: dict[str, Any]) -> str:
    """A display as text: images and widgets by name only (never sent), else text/plain."""
    images = [mime for mime in data if mime.startswith("image/")]
    if images:
        return f"[image output ({images[0]}), not sent]"
    if "application/vnd.jupyter.widget-view+json" in data:
        return "[widget output, not sent]"
    text = data.get("text/plain")
    return text if isinstance(text, str) else ""
