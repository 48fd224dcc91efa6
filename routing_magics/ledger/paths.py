"""Where the ledger lives, who may read it, and which notebook a kernel serves."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from ..config import ENV_USAGE_DB

# This process's own key when nothing names the notebook: pid plus start time, so two terminal
# sessions never share totals (or `--reset` each other's rows), and a reused pid gets a new key.
_OWN_KEY = f"session:{os.getpid()}@{time.strftime('%Y-%m-%dT%H:%M:%S')}"


def default_ledger_path(env: Mapping[str, str] = os.environ) -> Path:
    """ROUTING_MAGICS_USAGE_DB, else routing_magics/usage.sqlite under Jupyter's data dir."""
    explicit = env.get(ENV_USAGE_DB)
    if explicit:
        return Path(explicit).expanduser()
    return _jupyter_data_dir(env) / "routing_magics" / "usage.sqlite"


def make_private(path: Path) -> None:
    """Before SQLite opens `path`: folders that are missing made 0700, the file made 0600 if it is
    missing, and an existing file of ours (with SQLite's -wal and -shm, which SQLite creates
    with the file's mode) tightened to ours alone. The file holds prompts, data frames in them,
    and answers; a folder that existed may be shared (a project's) and is left as it is."""
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another kernel made it meanwhile
            folder.mkdir(mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        _tighten(each)


def _tighten(path: Path) -> None:
    """Take group and other access off a regular file of ours; anything else is left alone."""
    own_uid = getattr(os, "geteuid", None)  # none on Windows, where modes mean little
    try:
        info = os.stat(path)
    except OSError:
        return
    if own_uid is None or info.st_uid != own_uid() or not stat.S_ISREG(info.st_mode):
        return
    if info.st_mode & 0o077:
        with contextlib.suppress(OSError):  # a file system without modes: nothing to tighten
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)


def _jupyter_data_dir(env: Mapping[str, str]) -> Path:
    # jupyter_core reads os.environ itself, so honour JUPYTER_DATA_DIR from `env` first.
    if env.get("JUPYTER_DATA_DIR"):
        return Path(env["JUPYTER_DATA_DIR"]).expanduser()
    try:
        from jupyter_core.paths import jupyter_data_dir
    except ImportError:
        return _platform_data_dir(env)
    return Path(jupyter_data_dir())


def _platform_data_dir(env: Mapping[str, str]) -> Path:
    """Jupyter's own defaults, for when jupyter_core is not installed."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter"
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        return Path(appdata) / "jupyter" if appdata else home / ".jupyter" / "data"
    xdg = env.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "jupyter"


def notebook_key(
    user_ns: Mapping[str, object], env: Mapping[str, str], kernel_id: str | None,
    headless: str | None = None,
) -> str:  # fmt: skip
    """Which notebook this kernel serves: its path when the frontend says, else the path of the
    notebook a headless runner runs (ui/headless.py), else the kernel id, else (a terminal, a
    script) a key of this process's own."""
    for candidate in (
        env.get("JPY_SESSION_NAME"),
        user_ns.get("__session__"),
        user_ns.get("__vsc_ipynb_file__"),
        headless,
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate
    return f"kernel:{kernel_id}" if kernel_id else _OWN_KEY
