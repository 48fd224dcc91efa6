"""The flows both shells share, over one exchange (exchange.py: send, build the answer once,
settle its usage) written by one recorder (record.py): a cell (single.py), which runs the loop
of conversation.py (with tools: tools.py; with a schema: structured.py), batches over a frame
(batch/), and the Python faces (ask.py, batch/each.py).

`RunOptions`, `AnswerDraft` and `run_prompt` load on first use (PEP 562), so the magics can name
the options without importing the flows, the ledger and the prompt machinery at `%load_ext`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .draft import AnswerDraft
    from .options import RunOptions
    from .single import run_prompt

_MODULE_OF = {"AnswerDraft": "draft", "RunOptions": "options", "run_prompt": "single"}
__all__ = ["AnswerDraft", "RunOptions", "run_prompt"]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
