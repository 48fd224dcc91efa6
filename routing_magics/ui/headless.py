"""Which notebook a headless kernel runs: nbclient, `jupyter execute`, nbconvert, papermill, nbval.

Those runners name no notebook to the kernel (no JPY_SESSION_NAME, no `__session__`), so the
kernel id, a temporary name, was the key and totals began again on every run. What a kernel
can know: its working directory, where nbclient starts it (the notebook's folder), and, on
Linux, the command line of the process that started it. The rule, in order:

1. the runner's notebook: when that process is a one-notebook runner (jupyter-execute,
   jupyter-nbconvert, papermill, pytest) and its command line names exactly one `.ipynb` file
   in the kernel's working directory (`jupyter execute notebooks/01-quickstart.ipynb`);
2. the working directory's notebook, when it holds exactly one `.ipynb` file;
3. none: the caller keys the kernel by its id.

A notebook server is never taken for a runner: `jupyter lab a.ipynb` may serve b.ipynb too.
The path is absolute, as JupyterLab's JPY_SESSION_NAME is, so a notebook run headless and in
JupyterLab shares one total. Read once, when the extension loads, so a later `os.chdir` in the
notebook does not move its totals.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

#: Programs that run one notebook per kernel (their names on the command line, without .exe).
RUNNERS = frozenset({"jupyter-execute", "jupyter-nbconvert", "papermill", "pytest", "py.test"})


def headless_notebook(
    cwd: str, launcher_args: Sequence[str] | None = None, launcher_cwd: str | None = None
) -> str | None:
    """The notebook a kernel started in `cwd` runs, by the rule above; None when unsure."""
    if launcher_args and _is_runner(launcher_args):
        named = [
            os.path.abspath(os.path.join(launcher_cwd or cwd, arg))
            for arg in launcher_args[1:]
            if arg.endswith(".ipynb")
        ]
        inside = {path for path in named if _in_directory(path, cwd)}
        if len(inside) == 1:
            return inside.pop()
    try:
        found = [entry.name for entry in os.scandir(cwd) if _is_notebook(entry)]
    except OSError:  # the directory went away, or may not be listed
        return None
    return os.path.join(os.path.abspath(cwd), found[0]) if len(found) == 1 else None


def launcher() -> tuple[list[str], str] | None:
    """The parent process's arguments and working directory (Linux's /proc), else None."""
    parent = os.getppid()
    try:
        raw = Path(f"/proc/{parent}/cmdline").read_bytes()
        where = os.readlink(f"/proc/{parent}/cwd")
    except OSError:  # not Linux, or the parent is gone or not ours to read
        return None
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg], where


def _is_runner(args: Sequence[str]) -> bool:
    """True when a program or module named in the command is a one-notebook runner."""
    names = (Path(arg).name.removesuffix(".exe").removesuffix("-script.py") for arg in args[:3])
    return any(name in RUNNERS for name in names)


def _in_directory(path: str, directory: str) -> bool:
    try:
        return os.path.isfile(path) and os.path.samefile(os.path.dirname(path), directory)
    except OSError:
        return False


def _is_notebook(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.name.endswith(".ipynb") and entry.is_file()
    except OSError:
        return False
