"""`{In[n]}`, `{Out[n]}`, `{Err[n]}`, `--cells N` and `%route fix` through a real
InteractiveShell against the emulator; cells run with history on, as in a notebook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def sent(h: Harness) -> str:
    return h.chat_requests()[-1].body["messages"][-1]["content"]


def numbered(h: Harness, *cells: str) -> list[int]:
    """Run cells with history; their execution counts."""
    return [h.run(c, history=True).result.execution_count for c in cells]


def test_in_out_err_and_negative_indexes(h: Harness) -> None:
    a, b, _ = numbered(h, "x = 41\nx + 1", "def f():\n    return 1 / 0\nf()", "y = 2")
    h.ok(
        f"%%route\necho: [{{In[{a}]}}] [{{Out[{a}]}}] [{{Err[{b}]}}] [{{Err[-2]}}] "
        f"[{{In[-1]}}] [{{Err[{a}]}}]"
    )
    text = sent(h)
    err = (
        "ZeroDivisionError: division by zero\n"
        f"  In[{b}], line 3, in <module>: f()\n"
        f"  In[{b}], line 2, in f: return 1 / 0"
    )
    assert text == f"echo: [x = 41\nx + 1] [42] [{err}] [{err}] [y = 2] [{{Err[{a}]}}]"


def test_cells_sends_code_stdout_results_and_errors_not_images(h: Harness) -> None:
    numbered(
        h,
        "print('hello from the cell')\n6 * 7",
        "from IPython.display import Image, display\n"
        "display(Image(data=b'\\x89PNG\\r\\n\\x1a\\n' + b'0' * 20, format='png'))",
        "{'a': 1}['b']",
    )
    h.ok("%%route --cells 3\necho: why?")
    text = sent(h)
    assert text.startswith("The notebook's last 3 cells, oldest first:")
    assert "hello from the cell\n" in text and "42" in text
    assert "[image output (image/png), not sent]" in text and "iVBOR" not in text
    assert "KeyError: 'b'" in text and "Traceback" not in text
    assert text.endswith("\n\necho: why?")
    assert one_line(h.run("%%route --cells -1\nhi").error).startswith("--cells -1")


def test_route_fix_explains_and_apply_puts_the_fix_below(h: Harness) -> None:
    assert "no cell has failed" in one_line(h.run("%route fix").error)
    numbered(h, "total = 40 + 2\nprint(totl)")
    cell = h.ok("%route fix")
    body = h.chat_requests()[-1].body
    assert "corrected cell" in body["messages"][0]["content"]
    assert "NameError: name 'totl' is not defined" in body["messages"][-1]["content"]
    assert "misspelling of `total`" in cell.final_plain()
    assert "rl_next_input" not in h.shell.__dict__
    h.ok("%route fix --apply")
    assert h.shell.rl_next_input == "total = 40 + 2\nprint(total)"
    assert h.shell.user_ns.get("total") == 42  # nothing ran again
    assert one_line(h.run("%route fix --now").error).startswith("%route fix: unknown option")


def test_negative_indexes_and_cells_work_without_history_as_under_nbval(h: Harness) -> None:
    h.run("a = 1\nprint('one')")  # nbval runs cells unnumbered (store_history=False)
    h.run("int('x')")
    h.ok("%%route\necho: {In[-2]} | {Err[-1]} | {In[9]}")
    assert sent(h) == (
        "echo: a = 1\nprint('one') | ValueError: invalid literal for int() with base 10: 'x'\n"
        "  cell, line 1, in <module>: int('x') | {In[9]}"
    )
    h.ok("%%route --cells 3\necho: x")
    text = sent(h)
    assert "Cell [-3]:" in text and "Cell [-1]:" in text
    assert "routing-inference" not in text  # our own footer is not context
