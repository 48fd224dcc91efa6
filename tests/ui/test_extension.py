"""`%load_ext` / `%unload_ext routing_magics` in real InteractiveShells: which session a shell's
`%route`, `current_session()` and `routing_magics.each` reach, after a reload and beside a second
shell; and how a result alone in a cell shows, through IPython's real formatters."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import routing_magics
from routing_magics.api.models import Completion
from routing_magics.emulator import Emulator
from routing_magics.session import loaded_session


@pytest.fixture
def shell(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    """The running shell, its extension talking to `emu`; unloaded afterwards."""
    monkeypatch.setenv("ROUTING_RUN_API_KEY", f"rk_test_{secrets.token_hex(8)}")
    monkeypatch.setenv("ROUTING_RUN_BASE_URL", emu.base_url)
    monkeypatch.setenv("ROUTING_RUN_FALLBACK_BASE_URL", "")
    monkeypatch.setenv("ROUTING_MAGICS_USAGE_DB", str(tmp_path / "u.sqlite"))
    monkeypatch.delenv("ROUTING_MAGICS_OFFLINE", raising=False)
    ipython = InteractiveShell.instance()
    try:
        yield ipython
    finally:
        if "routing_magics" in ipython.extension_manager.loaded:
            ipython.run_line_magic("unload_ext", "routing_magics")


def run(shell: InteractiveShell, source: str) -> tuple[str, BaseException | None]:
    """Run a cell as nbval does (unnumbered: other tests count on the shell's history)."""
    with capture_output() as captured:
        result = shell.run_cell(source)
    return captured.stdout, result.error_before_exec or result.error_in_exec


def test_unload_then_load_gives_the_shell_a_fresh_session_and_cell_log(
    shell: InteractiveShell, emu: Emulator
) -> None:
    shell.run_line_magic("load_ext", "routing_magics")
    first = routing_magics.current_session()
    run(shell, "1 / 0")
    shell.run_line_magic("unload_ext", "routing_magics")
    with pytest.raises(RuntimeError, match="load_ext routing_magics"):
        routing_magics.current_session()
    assert "`%route` not found" in str(run(shell, "%route models")[1])
    assert "`%%route` not found" in str(run(shell, "%%route\nhi")[1])

    shell.run_line_magic("load_ext", "routing_magics")
    second = routing_magics.current_session()
    assert second is not first
    assert "no cell has failed" in str(run(shell, "%route fix")[1])  # the old log is gone
    run(shell, "int('x')")
    _, error = run(shell, "%route fix")
    assert error is None
    asked = [r for r in emu.requests if r.path == "/v1/chat/completions"]
    assert "ValueError: invalid literal" in asked[-1].body["messages"][-1]["content"]
    assert "ZeroDivisionError" not in asked[-1].body["messages"][-1]["content"]


def test_each_uses_the_loaded_session_and_a_script_gets_its_own(
    shell: InteractiveShell, emu: Emulator
) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"city": ["Oslo", "Lima"]})
    shell.run_line_magic("load_ext", "routing_magics")
    shell.run_line_magic("route", "use route/glm-5")
    routing_magics.each(frame, "Capital? {city}", progress=False)
    shell.run_line_magic("unload_ext", "routing_magics")
    routing_magics.each(frame, "Capital? {city}", progress=False)
    models = [r.body["model"] for r in emu.requests if r.path == "/v1/chat/completions"]
    assert models[:2] == ["route/glm-5", "route/glm-5"]  # the notebook's default model
    assert "route/glm-5" not in models[2:]  # a fresh session: the built-in default


def test_two_shells_keep_their_own_sessions(shell: InteractiveShell) -> None:
    other = InteractiveShell()
    routing_magics.load_ipython_extension(shell)
    routing_magics.load_ipython_extension(other)
    try:
        shell.run_line_magic("route", "use route/glm-5")
        other.run_line_magic("route", "use route/kimi-k2.5")
        assert routing_magics.current_session() is loaded_session(shell)
        with capture_output() as mine:
            shell.run_line_magic("route", "use")
        routing_magics.unload_ipython_extension(other)
        with capture_output() as still:
            shell.run_line_magic("route", "use")
    finally:
        routing_magics.unload_ipython_extension(other)
        routing_magics.unload_ipython_extension(shell)
    assert mine.stdout == still.stdout == "Default model: route/glm-5\n"
    assert loaded_session(other) is None and loaded_session(shell) is None


def test_a_result_alone_in_a_cell_shows_its_answer_rendered_and_escaped(
    shell: InteractiveShell,
) -> None:
    shell.run_line_magic("load_ext", "routing_magics")
    answer = Completion(text="**Yes** <script>alert(1)</script>", model="route/glm-5")
    data, _ = shell.display_formatter.format(answer)
    assert data["text/plain"] == "**Yes** <script>alert(1)</script>"
    assert "<strong>Yes</strong>" in data["text/html"]
    assert "<script>" not in data["text/html"] and "&lt;script&gt;" in data["text/html"]
    assert "text/markdown" not in data
