"""Where the ledger lives, and which notebook a kernel serves."""

from __future__ import annotations

import os
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
