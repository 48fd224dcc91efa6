"""Where a live view's displays go: IPython's display system, or HTML widgets in a box.

Both are protocols.DisplaySink. IPython and ipywidgets are imported on first use.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .protocols import Bundle

if TYPE_CHECKING:
    import ipywidgets as widgets
    from IPython.display import DisplayHandle


class IPythonHandle:
    """A display that can be replaced in place (update_display_data)."""

    def __init__(self, handle: DisplayHandle) -> None:
        self._handle = handle

    def update(self, data: Bundle, metadata: dict[str, Any] | None = None) -> None:
        self._handle.update(data, raw=True, metadata=metadata or {})


class IPythonSink:
    """Every show() is a new display_data with a display id, so it can be updated."""

    def show(self, data: Bundle, metadata: dict[str, Any] | None = None) -> IPythonHandle:
        from IPython.display import display

        return IPythonHandle(display(data, raw=True, metadata=metadata or {}, display_id=True))


class WidgetHandle:
    """One HTML widget; an empty placeholder takes no room."""

    def __init__(self, widget: widgets.HTML) -> None:
        self.widget = widget

    def update(self, data: Bundle, metadata: dict[str, Any] | None = None) -> None:
        value = data.get("text/html")
        if value is None:
            value = f"<pre>{html.escape(data.get('text/plain', ''))}</pre>"
        self.widget.value = value
        self.widget.layout.display = None if value else "none"


class WidgetSink:
    """Every show() appends a new HTML widget to a box (the panel's answer area)."""

    def __init__(self, box: widgets.Box) -> None:
        self._box = box

    def show(self, data: Bundle, metadata: dict[str, Any] | None = None) -> WidgetHandle:
        import ipywidgets as widgets

        widget = widgets.HTML()
        # JupyterLab's and Notebook 7's styles for rendered HTML: tables, code, lists, as in a cell.
        widget.add_class("jp-RenderedHTMLCommon")
        handle = WidgetHandle(widget)
        handle.update(data, metadata)
        self._box.children = (*self._box.children, handle.widget)
        return handle
