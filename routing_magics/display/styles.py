"""The look of what we render: every colour a JupyterLab CSS variable with a fallback.

Fallbacks are for frontends without JupyterLab's variables (a plain HTML viewer): token colours
fall back to JupyterLab Light's; muted text to a grey readable on white and on black alike
(#767676 has a contrast ratio above 4.5:1 against both); boxes and tracks to translucent grey.
No colour here is a hard-coded white or black, so output reads in Light, Dark and elsewhere.
"""

from __future__ import annotations

#: Classes that make MathJax (v3: mathjax_*, v2: tex2jax_*) leave an element's text alone, so
#: "$5 and $10" in it stays text. Put it on any output that may hold a dollar sign.
NO_MATH = "tex2jax_ignore mathjax_ignore"
#: Classes that make MathJax typeset inside an element even within a NO_MATH one.
MATH = "tex2jax_process mathjax_process"

MUTED = "var(--jp-content-font-color2,#767676)"
_BORDER = "var(--jp-border-color2,rgba(127,127,127,0.35))"

CODE_BOX = (
    "background:var(--jp-cell-editor-background,rgba(127,127,127,0.1));border-radius:2px;"
    "padding:6px 10px;margin:0 0 1em;overflow-x:auto"
)
#: JupyterLab gives every <code> a page-coloured background and pre-wrap: not inside our box.
CODE_TEXT = "background:none;padding:0;white-space:pre"
REASONING_TEXT = (
    f"white-space:pre-wrap;color:{MUTED};font-size:0.9em;"
    f"border-left:2px solid {_BORDER};padding-left:0.6em;margin:0.25em 0 0.5em"
)
NOTICE = (
    "font-style:italic;border-left:3px solid var(--jp-warn-color1,#f57c00);"
    "padding-left:0.5em;margin:0.25em 0"
)
FOOTER = f"font-size:0.85em;color:{MUTED};margin-top:0.25em"
#: Wide tables scroll inside the output instead of widening the notebook.
SCROLL_X = "overflow-x:auto;max-width:100%"
BAR_TRACK = f"width:8em;background:{_BORDER};border-radius:2px"
BAR = "height:0.6em;background:var(--jp-brand-color1,#1976d2);border-radius:2px"
