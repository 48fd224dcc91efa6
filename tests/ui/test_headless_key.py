"""Headless runs keep per-notebook totals (issue 20): real kernels under nbclient and
`jupyter execute`, each notebook run twice, the second run's footer counting the first's."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from routing_magics.ui.headless import headless_notebook

CELLS = ["%load_ext routing_magics", "%%route\necho: one two three"]


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Kernels inherit this: no key (the bundled emulator, unthrottled), a fresh ledger."""
    for name in ("ROUTING_RUN_API_KEY", "ROUTING_RUN_BASE_URL", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROUTING_MAGICS_EMULATOR_TOKEN_RATE", "0")
    db = tmp_path / "usage.sqlite"
    monkeypatch.setenv("ROUTING_MAGICS_USAGE_DB", str(db))
    return db


def write_notebook(path: Path) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def total_in_footer(notebook: nbformat.NotebookNode) -> int:
    """The 'notebook total N tokens' the last answer's footer shows."""
    plain = "".join(o.get("data", {}).get("text/plain", "") for o in notebook.cells[-1].outputs)
    found = re.findall(r"notebook total ([\d,]+) tokens", plain)
    assert found, plain
    return int(found[-1].replace(",", ""))


def ledger_notebooks(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT notebook FROM requests ORDER BY id")]


@pytest.mark.timeout(180)
def test_nbclient_twice_keeps_the_notebooks_totals(offline: Path, tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "project" / "report.ipynb")
    totals = []
    for _ in range(2):
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
        client.execute()
        totals.append(total_in_footer(notebook))
    assert totals[1] == 2 * totals[0] > 0  # the second run counts the first
    assert ledger_notebooks(offline) == [str(path)] * 2


@pytest.mark.timeout(180)
def test_jupyter_execute_names_its_notebook_among_several(offline: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notebooks"
    first = write_notebook(folder / "01-first.ipynb")
    write_notebook(folder / "02.ipynb")
    execute = Path(sys.executable).with_name("jupyter-execute")
    totals = []
    for _ in range(2):  # the README's headless command, from the folder above the notebooks
        command = [str(execute), "notebooks/01-first.ipynb", "--inplace"]
        subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=150)
        totals.append(total_in_footer(nbformat.read(first, as_version=4)))
    assert totals[1] == 2 * totals[0] > 0
    assert ledger_notebooks(offline) == [str(first)] * 2  # not 02.ipynb, not the kernel id


def test_the_rule_without_a_kernel(tmp_path: Path) -> None:
    one, two = (
        write_notebook(tmp_path / "a" / "x.ipynb"),
        write_notebook(tmp_path / "b" / "y.ipynb"),
    )
    write_notebook(tmp_path / "b" / "z.ipynb")
    a, b = str(one.parent), str(two.parent)
    assert headless_notebook(a) == str(one)  # the folder's only notebook
    assert headless_notebook(b) is None  # two: unsure, so the kernel id
    runner = ["/venv/bin/python", "/venv/bin/jupyter-execute", "y.ipynb"]
    assert headless_notebook(b, runner, b) == str(two)
    assert headless_notebook(b, [*runner, "z.ipynb"], b) is None  # two named: unsure
    server = ["/venv/bin/python", "/venv/bin/jupyter-lab", "y.ipynb"]  # may serve z.ipynb too
    assert headless_notebook(b, server, b) is None
    nbval = [sys.executable, "-m", "pytest", "--nbval", "b/y.ipynb", "a/x.ipynb"]
    assert headless_notebook(b, nbval, str(tmp_path)) == str(two)
    assert headless_notebook(str(tmp_path / "gone")) is None
    assert os.path.isabs(headless_notebook(os.path.relpath(a)) or "")
