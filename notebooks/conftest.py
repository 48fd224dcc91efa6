"""nbval runs the example notebooks on the bundled emulator, the way a newcomer without a key does.

Each notebook's kernel is started by nbval while the notebook's first cell is set up, and it
inherits os.environ from then. So, only during the setup of notebook cells (nothing leaks into
tests/), the environment loses any routing.run key and endpoint (the extension then answers from
its emulator even on a machine that holds a real key), gets a fresh usage ledger for this pytest
run (footers count "notebook total" from zero), a fixed emulator speed (quick, yet streaming),
and an empty IPython profile (a user's ipython_config.py or startup files cannot change outputs).

`python notebooks/conftest.py` re-executes every notebook in that same environment with nbclient
and saves the outputs nbval compares against (run it after a change in what users see).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = Path(__file__).resolve().parent
#: Unset for notebook kernels: with no key the extension starts its emulator, as on Binder.
UNSET = (
    "ROUTING_RUN_API_KEY",
    "ROUTING_RUN_BASE_URL",
    "ROUTING_RUN_FALLBACK_BASE_URL",
    "ROUTING_MAGICS_OFFLINE",
    "JPY_SESSION_NAME",  # set when pytest runs from a Jupyter terminal; would rename the ledger key
)
#: Tokens/s of the emulator in notebook kernels: ~1 s an answer, so cells really stream.
TOKEN_RATE = "400"


def notebook_env(workdir: Path) -> dict[str, str | None]:
    """Variables to set (None: unset) for kernels that run the notebooks; files go in workdir."""
    env: dict[str, str | None] = dict.fromkeys(UNSET)
    env["ROUTING_MAGICS_USAGE_DB"] = str(workdir / "usage.sqlite")
    env["ROUTING_MAGICS_EMULATOR_TOKEN_RATE"] = TOKEN_RATE
    env["IPYTHONDIR"] = str(workdir / "ipython")
    return env


def apply_env(
    environ: MutableMapping[str, str], changes: Mapping[str, str | None]
) -> dict[str, str | None]:
    """Apply `changes` to `environ`; returns what is needed to undo them."""
    undo = {name: environ.get(name) for name in changes}
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return undo


_ENV_KEY: pytest.StashKey[dict[str, str | None]] = pytest.StashKey()


def pytest_configure(config: pytest.Config) -> None:
    workdir = tempfile.TemporaryDirectory(prefix="routing-magics-nbval-")
    config.add_cleanup(workdir.cleanup)
    config.stash[_ENV_KEY] = notebook_env(Path(workdir.name))
    # addopts names the sanitizer relative to the repository: make it work from any directory.
    sanitizer = getattr(config.option, "nbval_sanitize_with", None)
    if sanitizer and not os.path.isabs(sanitizer) and not os.path.exists(sanitizer):
        config.option.nbval_sanitize_with = str(config.rootpath / sanitizer)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    env = item.config.stash[_ENV_KEY]
    undo = apply_env(os.environ, env)
    try:
        return (yield)
    finally:
        apply_env(os.environ, undo)


def _like_nbval() -> type:
    """nbclient's client, running cells without history as nbval does, so `{In[-1]}` and
    `--cells` (08-notebook-context) store the outputs nbval will see."""
    from nbclient import NotebookClient

    class LikeNbval(NotebookClient):
        async def async_execute_cell(
            self, cell: Any, cell_index: int, execution_count: int | None = None,
            store_history: bool = True,
        ) -> Any:  # fmt: skip
            return await super().async_execute_cell(cell, cell_index, execution_count, False)

    return LikeNbval


def execute_notebooks(paths: list[Path]) -> None:
    """Run each notebook top to bottom (streaming, as nbval will) and save its outputs."""
    import nbformat

    _LikeNbval = _like_nbval()

    with tempfile.TemporaryDirectory(prefix="routing-magics-nbexec-") as workdir:
        undo = apply_env(os.environ, notebook_env(Path(workdir)))
        try:
            for path in paths:
                started = time.monotonic()
                notebook = nbformat.read(path, as_version=4)
                client = _LikeNbval(
                    notebook,
                    kernel_name="python3",
                    timeout=600,
                    record_timing=False,
                    resources={"metadata": {"path": str(path.parent)}},
                )
                client.execute()
                nbformat.write(notebook, path)
                print(f"{path.name}: {time.monotonic() - started:.1f} s")
        finally:
            apply_env(os.environ, undo)


if __name__ == "__main__":
    named = [Path(arg).resolve() for arg in sys.argv[1:]]
    execute_notebooks(named or sorted(NOTEBOOKS.glob("[0-9]*.ipynb")))
