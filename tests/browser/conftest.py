"""Real-browser fixtures: a JupyterLab 4 server on loopback and Debian's Chromium via Playwright.

The whole directory skips, with the reason shown, when Chromium or the playwright package is
missing. Playwright's own browser download is never used: we launch /usr/bin/chromium.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

BROWSER_DIR = Path(__file__).parent
#: Tokens a second for the emulator the kernels start: slow enough to watch an answer stream.
TOKEN_RATE = 40
#: Generous: the machine has 2 cores and JupyterLab, a kernel and Chromium share them.
TIMEOUT_MS = 60_000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Inherited variables that would point the server or kernels at a user's own setup.
_LEAKY_ENV = (
    "ROUTING_RUN_API_KEY",
    "ROUTING_RUN_BASE_URL",
    "ROUTING_RUN_FALLBACK_BASE_URL",
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_PLATFORM_DIRS",
    "JUPYTERLAB_SETTINGS_DIR",
    "JUPYTERLAB_WORKSPACES_DIR",
    "PYTHONSTARTUP",
)


def chromium_path() -> str | None:
    """Debian's Chromium, or any `chromium` on PATH."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _skip_reason() -> str | None:
    if chromium_path() is None:
        return "browser tests need Chromium (/usr/bin/chromium; `apt-get install chromium`)"
    if importlib.util.find_spec("playwright") is None:
        return "browser tests need the playwright Python package (`pip install playwright`)"
    if importlib.util.find_spec("jupyterlab") is None:
        return "browser tests need jupyterlab>=4"
    return None


#: Every screenshot this run saved: pytest captures the prints of passing tests, so the paths
#: are listed again at the end of the report (the README promises them).
SCREENSHOTS: list[Path] = []


def saved(path: Path, what: str = "screenshot") -> Path:
    """Note a screenshot for the end-of-run list, and print its path (shown with -s)."""
    SCREENSHOTS.append(path)
    print(f"{what}: {path}")
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS:
        terminalreporter.section("browser screenshots")
        for path in SCREENSHOTS:
            terminalreporter.write_line(str(path))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in headless Chromium (tests/browser)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so `page` can screenshot a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- the JupyterLab server -------------------------------------------------------------------


@dataclass
class Lab:
    """A running JupyterLab: where it is, how to get in, and where its files live."""

    base_url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str, query: str = "") -> str:
        extra = f"&{query}" if query else ""
        return f"{self.base_url}{path.lstrip('/')}?token={self.token}{extra}"

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API; JSON answer or None."""
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End every session and its kernel, so the next test has both cores."""
        with contextlib.suppress(OSError, ValueError):
            for session in self.api("GET", "api/sessions"):
                self.api("DELETE", f"api/sessions/{session['id']}")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_jupyter_config(config_dir: Path) -> None:
    """No news feed, no update check, no 'receive news?' toast: the machine has no network."""
    config_dir.mkdir(parents=True, exist_ok=True)
    server = {
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "extension_manager": "readonly",
        }
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server))
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(exist_ok=True)
    disabled = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    (labconfig / "page_config.json").write_text(json.dumps(disabled))


def _lab_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_ENV}
    env.update(
        ROUTING_MAGICS_OFFLINE="1",
        ROUTING_MAGICS_USAGE_DB=str(home / "usage.sqlite"),
        ROUTING_MAGICS_EMULATOR_TOKEN_RATE=str(TOKEN_RATE),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_for_status(lab: Lab, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited ({lab.process.returncode}):\n{lab.log_tail()}")
        with contextlib.suppress(OSError, ValueError):
            lab.api("GET", "api/status")
            return
        time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{lab.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on a free loopback port, with its own config, data and root dirs."""
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    _write_jupyter_config(home / "config")
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",  # CI runs as root
    ]
    log = home / "jupyter.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=root, env=_lab_env(home), stdout=sink, stderr=subprocess.STDOUT
        )
    server = Lab(f"http://127.0.0.1:{port}/", token, root, log, process)
    try:
        _wait_for_status(server)
        print(f"\njupyter lab at {server.base_url} (log: {log})")
        yield server
    finally:
        _stop(process)


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(lab: Lab) -> Iterator[Browser]:
    """Debian's Chromium; Playwright gives every launch a fresh, empty profile of its own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every alert/confirm/prompt the page raised (each dismissed at once)."""
    return []


@pytest.fixture
def page(
    browser: Browser, dialogs: list[str], lab: Lab, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Page]:
    """A fresh 1280×900 tab; dialogs are dismissed but recorded in `dialogs`.

    A failed test leaves `failure.png` in its tmp dir (the path is printed).
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    try:
        yield tab
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            tab.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            saved(tmp_path / "failure.png", "screenshot of the failure")
    finally:
        context.close()
        lab.shutdown_kernels()


@pytest.fixture
def shot(page: Page, tmp_path: Path) -> Callable[[str], Path]:
    """shot("name") saves a full-page screenshot in the test's tmp dir and lists its path."""

    def take(name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return saved(path)

    return take


# --- notebooks -------------------------------------------------------------------------------


_KERNEL_IDLE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const button = panel && panel.querySelector('.jp-Toolbar-kernelName');
  const name = button ? button.getAttribute('aria-label') || button.textContent : '';
  const bar = (document.querySelector('.jp-StatusBar-Widget') || {}).innerText || '';
  return !!indicator && indicator.dataset.status === 'idle' && !!name && name !== 'No Kernel'
    && /[|] Idle/.test(bar) && !/No Kernel/.test(bar);
}"""


class NotebookUI:
    """Write a notebook into the lab's root, open it, run its cells and read their outputs."""

    def __init__(self, page: Page, lab: Lab) -> None:
        self.page = page
        self.lab = lab

    def open(self, name: str, sources: list[str]) -> None:
        """Write `name`.ipynb with these code cells, open it, wait for an idle kernel."""
        import nbformat

        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nbformat.write(notebook, str(self.lab.root / f"{name}.ipynb"))
        # ?reset: a fresh workspace, so notebooks of earlier tests are not reopened.
        self.page.goto(self.lab.url(f"lab/tree/{name}.ipynb", "reset"))
        self.cells.first.wait_for()
        self.wait_idle()

    @property
    def notebook(self) -> Locator:
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")

    @property
    def cells(self) -> Locator:
        return self.notebook.locator(".jp-Cell")

    def cell(self, index: int) -> Locator:
        return self.cells.nth(index)

    def outputs(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-OutputArea-output")

    def wait_idle(self, timeout_ms: int = TIMEOUT_MS) -> None:
        """Wait until a kernel is attached and idle.

        The toolbar indicator says "idle" while there is no kernel yet, so the kernel's name and
        the status bar ("Python 3 (ipykernel) | Idle") must agree too.
        """
        self.page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout_ms)

    def run(self, index: int) -> None:
        """Click into the cell's editor and press Shift+Enter, as a person would."""
        self.cell(index).locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        # The prompt turns from [ ]: to [*]: (or straight to [n]:) once the kernel has the cell.
        self._wait_prompt(index, r"\[(\*|\d+)\]", 10_000)

    def _wait_prompt(self, index: int, pattern: str, timeout_ms: int) -> None:
        prompt = self.cell(index).locator(".jp-InputPrompt").element_handle()
        self.page.wait_for_function(
            "([el, pattern]) => new RegExp(pattern).test(el.textContent)",
            arg=[prompt, pattern],
            timeout=timeout_ms,
        )

    def wait_done(self, index: int, timeout_ms: int = TIMEOUT_MS) -> None:
        """Wait until the cell's prompt shows an execution count ([3]:, not [*]: or [ ]:)."""
        self._wait_prompt(index, r"\[\d+\]", timeout_ms)

    def run_and_wait(self, index: int, text: str, timeout_ms: int = TIMEOUT_MS) -> Locator:
        """Run a cell and wait until its output area shows `text`; returns the outputs."""
        self.run(index)
        outputs = self.outputs(index)
        outputs.filter(has_text=text).first.wait_for(timeout=timeout_ms)
        return outputs


@pytest.fixture
def notebook(page: Page, lab: Lab) -> NotebookUI:
    return NotebookUI(page, lab)
