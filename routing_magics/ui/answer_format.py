"""What `--format code|json` does with a finished answer: its code into a new cell below, or a
check that it parses as JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..api import errors

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..api.models import Completion
    from ..display.protocols import Format


def extract_code(text: str) -> str:
    """The fenced code blocks of an answer, joined; the whole answer if it has none."""
    from ..display.render import code_blocks

    blocks = [block.rstrip("\n") for block in code_blocks(text)]
    return "\n\n".join(blocks) if blocks else text.strip()


def apply_format(shell: InteractiveShell, done: Completion, fmt: Format) -> None:
    """--format code: the code goes into a new cell below; json: the answer must parse;
    --schema: the validated object, as a table."""
    if done.data is not None:
        from IPython.display import display

        from ..display.structured import object_bundle

        display(object_bundle(done.data), raw=True)
    if fmt == "code" and done.text.strip():
        shell.set_next_input(extract_code(done.text), replace=False)
    elif fmt == "json":
        try:
            json.loads(extract_code(done.text))
        except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
            raise errors.ProtocolError(
                f"the answer is not valid JSON ({exc})",
                hint="ask for JSON only in the prompt, or use --format text",
                code="NOT_JSON",
            ) from None
