"""live.DisplaySink over ipywidgets: every shown bundle becomes an HTML widget in a box."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets


class WidgetHandle:
    """live.DisplayHandle over one HTML widget; an empty placeholder takes no room."""

    def __init__(self, widget: widgets.HTML) -> None:
        self.widget = widget

    def update(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> None:
        value = data.get("text/html")
        if value is None:
            value = f"<pre>{html.escape(data.get('text/plain', ''))}</pre>"
        self.widget.value = value
        self.widget.layout.display = None if value else "none"


class WidgetSink:
    """live.DisplaySink over a VBox: every show() appends a new HTML widget."""

    def __init__(self, box: widgets.Box) -> None:
        self._box = box

    def show(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> WidgetHandle:
        widget = widgets.HTML()
        # JupyterLab's and Notebook 7's styles for rendered HTML: tables, code, lists, as in a cell.
        widget.add_class("jp-RenderedHTMLCommon")
        handle = WidgetHandle(widget)
        handle.update(data, metadata)
        self._box.children = (*self._box.children, handle.widget)
        return handle
