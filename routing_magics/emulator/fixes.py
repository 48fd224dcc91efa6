"""`%route fix` requests: the cause of a failed cell and a corrected cell, when a typo explains it;
and `--cells` context: which cells were sent and which one failed.

Both are found only by the strings prompt/history.py writes them with: a fix request carries a
fenced block after FIX_CODE_HEADING and one after FIX_ERROR_HEADING (as ui/fix.py sends it
through prompt.history.fix_request); `--cells` context opens with CELLS_HEADING and names each
cell with CELL_NAME. A NameError or AttributeError whose name is close to an identifier of the
cell is fixed by using that identifier; anything else gets the cell back with a note.
"""

from __future__ import annotations

import re

from ..prompt import history
from .markers import template_pattern

_NAMED = re.compile(r"(NameError|AttributeError|KeyError)\b.*?'(\w+)'")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _fenced_after(heading: str, text: str) -> str | None:
    """The body of the fenced block on the lines after `heading`, or None."""
    pattern = rf"^{re.escape(heading)}\n(?P<fence>`{{3,}})[^\n`]*\n(?P<body>.*?)\n(?P=fence)$"
    found = re.search(pattern, text, re.MULTILINE | re.DOTALL)
    return found["body"] if found else None


def fix_blocks(text: str) -> tuple[str, str] | None:
    """(code, error) from a fix request, or None when `text` is not one."""
    code = _fenced_after(history.FIX_CODE_HEADING, text)
    error = _fenced_after(history.FIX_ERROR_HEADING, text)
    return (code, error) if code is not None and error is not None else None


def _fixed(code: str, error: str) -> tuple[str, str] | None:
    """(corrected code, the cause in a sentence) for a misspelt name, else None."""
    found = _NAMED.search(error.splitlines()[0])
    if found is None:
        return None
    kind, wrong = found.groups()
    names = set(_IDENTIFIER.findall(code)) - {wrong}
    if kind == "KeyError":
        names = set(re.findall(r"[\"'](\w+)[\"']", code)) - {wrong}
    import difflib  # only fix requests need it: kept out of the emulator's start-up

    close = difflib.get_close_matches(wrong, sorted(names), n=1, cutoff=0.6)
    if not close:
        return None
    pattern = rf"(?<![\w\"']){re.escape(wrong)}(?![\w\"'])"
    if kind == "KeyError":
        pattern = rf"(?<=[\"']){re.escape(wrong)}(?=[\"'])"
    fixed = re.sub(pattern, close[0], code)
    cause = (
        f"The cell uses `{wrong}`, which does not exist: it is a misspelling of `{close[0]}`, "
        f"so Python raised `{kind}`."
    )
    return fixed, cause


def fix_answer(code: str, error: str) -> tuple[str, str]:
    """(markdown answer, reasoning) for a fix request."""
    first = error.strip().splitlines()[0]
    found = _fixed(code, error)
    if found is None:
        cause = (
            f"The cell raised `{first}`. The offline emulator cannot tell more than the error "
            "says; check the line the traceback names."
        )
        fixed = f"# TODO: fix {first}\n{code}"
    else:
        fixed, cause = found
    answer = f"**Cause.** {cause}\n\n**Corrected cell:**\n\n```python\n{fixed}\n```"
    thoughts = f"The cell failed with “{first}”. I'll find the cause and correct only that."
    return answer, thoughts


_RAISED = re.compile(r"^(\w+(?:Error|Exception|Interrupt)): (.*)$", re.MULTILINE)


def context_answer(text: str) -> tuple[str, str] | None:
    """(answer, reasoning) for a prompt that starts with `--cells` context, else None."""
    head = re.match(template_pattern(history.CELLS_HEADING, count=r"\d+"), text)
    if head is None:
        return None
    cell = template_pattern(history.CELL_NAME, number=r"-?\d+")
    numbers = re.findall(rf"^{cell}:$", text, re.MULTILINE)
    question = text.rsplit("\n\n", 1)[-1].strip()
    raised = _RAISED.findall(text)
    read = f"I read {len(numbers)} cells ({', '.join(f'[{n}]' for n in numbers)})"
    if raised:
        kind, message = raised[-1]
        answer = (
            f"{read}. The failure is `{kind}: {message}`: Python stopped at the line the error "
            "names, so nothing after it ran. `%route fix` proposes a corrected cell."
        )
    else:
        answer = f"{read}; none of them failed, so the answer to “{question}” is in their output."
    return answer, f"The user sent {head['count']} cells as context and asks: “{question}”."
