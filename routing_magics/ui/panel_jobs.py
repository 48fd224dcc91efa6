"""The panel's list of running background jobs: one line and a Stop button each.

Redrawn whenever a job starts or ends (the registry tells it, from whichever thread that
happens on); a job's own progress moves in its cell, and `%route jobs` shows it in full.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..run.jobs import Job, jobs_of
from .jobs_commands import job_row

if TYPE_CHECKING:
    from ..session import Session


class JobsList(widgets.VBox):
    """The session's running jobs; Stop ends one (what arrived stays in its cell)."""

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("routing-magics-jobs")
        self._registry = jobs_of(session)
        self._lock = threading.Lock()
        self.stop_buttons: dict[int, widgets.Button] = {}
        self._registry.listen(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """One row per running job, in the order they started."""
        with self._lock:
            old = _rows(self)
            rows = [self._row(job) for job in self._registry.running()]
            self.children = tuple(rows)
            for row in old:
                for child in row.children:
                    child.close()
                row.close()

    def _row(self, job: Job) -> widgets.HBox:
        number, cell, model, progress, _, state = job_row(job)
        label = widgets.Label(f"job {number} · {cell} · {model} · {progress} · {state}")
        button = widgets.Button(description="Stop", tooltip=f"Stop job {number}")
        button.on_click(lambda _: job.stop())
        self.stop_buttons[job.id] = button
        return widgets.HBox([label, button])

    def close(self) -> None:
        if hasattr(self, "_registry"):  # ipywidgets also calls close() from __del__
            self._registry.unlisten(self.refresh)
            for row in _rows(self):
                for child in row.children:
                    child.close()
        super().close()


def _rows(box: widgets.Box) -> tuple[Any, ...]:
    return tuple(box.children)
