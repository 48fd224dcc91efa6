"""The example notebooks' surroundings: what Binder installs, which cells fail, the README's badge.

nbval (in the test command) replays the notebooks themselves; these checks cover what it cannot:
an import Binder would not install, a failing cell left untagged, a stored output nbval skips.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
#: Import names of the package's own dependencies (pyproject [project] dependencies).
PACKAGE_IMPORTS = {
    "routing_magics",
    "IPython",
    "ipywidgets",
    "httpx",
    "markdown_it",
    "pydantic",
    "jsonschema",
}
BINDER_URL = (
    "https://mybinder.org/v2/gh/routing-magics/routing_magics/HEAD"
    "?urlpath=lab/tree/notebooks/01-quickstart.ipynb"
)


def code_cells(path: Path) -> list[Any]:
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def imported_modules(source: str) -> set[str]:
    """Top-level modules a cell imports (magics turned into Python first, as IPython does)."""
    tree = ast.parse(TransformerManager().transform_cell(source))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
    return found


def binder_requirements() -> set[str]:
    """Import names of the plain requirements in binder/requirements.txt (not `-e .`)."""
    names = set()
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        line = line.partition("#")[0].strip()
        if line and not line.startswith(("-", ".")):
            names.add(re.split(r"[<>=!~\[; ]", line)[0].replace("-", "_"))
    return names


def test_the_example_notebooks_are_these_and_binder_opens_the_first() -> None:
    names = [path.stem for path in NOTEBOOKS]
    assert names == [
        "01-quickstart",
        "02-dataframes",
        "03-panel",
        "04-summarize-with-mistral",
        "05-errors-and-limits",
        "06-chat",
        "07-batch",
        "08-notebook-context",
        "09-usage",
        "10-structured",
        "11-background",
        "12-choosing-a-route",
    ]
    assert BINDER_URL in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_binder_installs_everything_the_notebook_imports(path: Path) -> None:
    allowed = set(sys.stdlib_module_names) | PACKAGE_IMPORTS | binder_requirements()
    imports = set().union(*(imported_modules(cell.source) for cell in code_cells(path)))
    assert imports - allowed == set()


def shows_failure(cell: Any) -> bool:
    """A UsageError one-liner on stderr, or a traceback."""
    return any(
        out.output_type == "error"
        or (out.output_type == "stream" and out.name == "stderr" and "Error" in out.text)
        for out in cell.outputs
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_cells_fail_exactly_where_tagged_and_every_output_is_checked(path: Path) -> None:
    for index, cell in enumerate(code_cells(path)):
        tags = set(cell.metadata.get("tags", []))
        where = f"{path.name} code cell {index}"
        assert cell.execution_count is not None, f"{where} has no stored outputs"
        assert shows_failure(cell) == ("raises-exception" in tags), where
        assert not tags & {"nbval-ignore-output", "nbval-skip"}, where
        assert "NBVAL_" not in cell.source, where
