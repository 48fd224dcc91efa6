"""Which notebook a shell serves: the Session's `notebook`, asked of the shell on every read."""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


class ShellNotebook:
    """Called for the notebook's key: JPY_SESSION_NAME, `__session__`, `__vsc_ipynb_file__`, else
    the notebook a headless runner runs (ui/headless.py), else the kernel id
    (ledger.paths.notebook_key). Asked anew each time, not once at `%load_ext`: VS Code sets
    `__vsc_ipynb_file__` after the kernel starts, and again on a rename."""

    def __init__(self, shell: InteractiveShell | None) -> None:
        self._shell = shell
        # At load, before a cell can os.chdir: where nbclient started the kernel.
        self._headless = _headless() if getattr(shell, "kernel", None) is not None else None

    def __call__(self) -> str:
        from ..ledger.paths import notebook_key

        namespace = self._shell.user_ns if self._shell is not None else {}
        return notebook_key(namespace, os.environ, self._kernel_id, self._headless)

    @cached_property
    def _kernel_id(self) -> str | None:
        """The kernel id from ipykernel's connection file name (kernel-<id>.json), if any."""
        if getattr(self._shell, "kernel", None) is None:
            return None
        try:
            from ipykernel.connect import get_connection_file

            name = os.path.basename(get_connection_file())
        except Exception:  # not started by a Jupyter kernel manager
            return None
        return name.removeprefix("kernel-").removesuffix(".json")


def _headless() -> str | None:
    from .headless import headless_notebook, launcher

    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed
        return None
    found = launcher()
    return headless_notebook(cwd, *(found or (None, None)))
