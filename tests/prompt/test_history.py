"""prompt/history.py and the history placeholders of prepare.interpolate (pure)."""

from __future__ import annotations

from routing_magics.prompt.history import CellText, NotebookContext, cells_context
from routing_magics.prompt.prepare import interpolate, prepare_prompt

CELLS = tuple(CellText(n, f"x{n} = {n}", f"printed {n}") for n in range(1, 6))


def lookup(kind: str, index: int) -> str | None:
    return {("In", 2): "a = 1", ("Out", 2): "42", ("Err", -1): "ValueError: no"}.get((kind, index))


def test_history_placeholders_fill_in_the_same_single_pass_as_names() -> None:
    text = interpolate(
        "{In[2]} | {Out[2]} | {Err[-1]} | {name} | {In[9]} | {{In[2]}} | {In[x]}",
        {"name": "{In[2]}"},
        render_value=lambda n, v: str(v),
        history=lookup,  # type: ignore[arg-type]
    )
    # Filled text is never re-scanned; unknown cells and escaped braces stay as written.
    assert text == "a = 1 | 42 | ValueError: no | {In[2]} | {In[9]} | {In[2]} | {In[x]}"


def test_without_a_lookup_history_placeholders_stay() -> None:
    assert interpolate("{Out[1]}", {}, render_value=lambda n, v: "") == "{Out[1]}"


def test_cells_keep_order_and_newest_win_when_cut() -> None:
    whole = cells_context(CELLS, 10_000)
    assert whole.startswith("The notebook's last 5 cells, oldest first:")
    assert whole.index("Cell [1]") < whole.index("Cell [5]")
    assert "```python\nx3 = 3\n```\nOutput:\n```\nprinted 3\n```" in whole
    one_block = len(whole.split("\n\n")[1])
    cut = cells_context(CELLS, 2 * one_block + 10)
    assert "Cell [5]" in cut and "Cell [4]" in cut and "Cell [3]" not in cut
    assert "(3 older left out to fit the context)" in cut
    assert cells_context(CELLS, 5) == ""


def test_prepare_puts_the_cells_before_the_prompt_within_the_context() -> None:
    big = tuple(CellText(n, "y" * 3000, "") for n in range(1, 30))
    prepared = prepare_prompt(
        "What failed?", {}, df_name=None, rows=50, context_tokens=8_000, max_tokens=None,
        system=None, notebook=NotebookContext(None, big),
    )  # fmt: skip
    text = prepared.user_text
    assert text.endswith("\n\nWhat failed?") and "Cell [29]" in text and "Cell [1]:" not in text
    assert len(text) / 4 < 8_000 - 1024
