"""The footer's cost estimates and cap warning: labelled estimates, '—' for unpriced, no MathJax."""

from __future__ import annotations

from routing_magics.display.money import usd
from routing_magics.display.protocols import CostInfo, FooterInfo
from routing_magics.display.render import footer_html, footer_text


def info(cost: CostInfo | None, warning: str | None = None) -> FooterInfo:
    return FooterInfo("route/glm-5", "crof", 400, 812, 240, False, 5_000, False,
                      cost=cost, warning=warning)  # fmt: skip


def test_the_footer_says_the_answers_and_the_notebooks_estimated_cost() -> None:
    line = footer_text(info(CostInfo(0.0004, 0.031)))
    assert "812 in / 240 out · ≈ $0.0004 · notebook ≈ $0.031 · notebook total 5,000" in line


def test_an_unpriced_model_shows_a_dash_never_zero() -> None:
    line = footer_text(info(CostInfo(None, None)))
    assert "cost —" in line and "$0" not in line and "notebook ≈" not in line
    partial = footer_text(info(CostInfo(None, 0.031, notebook_partial=True)))
    assert "cost — · notebook ≈ $0.031 (priced routes only)" in partial


def test_without_prices_the_footer_says_nothing_about_cost() -> None:
    assert "$" not in footer_text(info(None)) and "cost" not in footer_text(info(None))


def test_the_footer_html_keeps_dollars_away_from_mathjax_and_warns() -> None:
    html = footer_html(info(CostInfo(0.0004, 0.031), "1,212 of 1,500 requests used today"))
    assert 'class="routing-magics-footer tex2jax_ignore mathjax_ignore"' in html
    assert "≈ $0.0004 · notebook ≈ $0.031" in html
    assert 'title="Costs are estimates' in html
    assert html.removesuffix("</div>").endswith("⚠ 1,212 of 1,500 requests used today")


def test_dollar_amounts_keep_two_significant_figures_without_exponents() -> None:
    assert [usd(x) for x in (0.0004, 0.000954, 0.0312, 1.234, 12_345.6, 0.000001, 0.0)] == [
        "$0.0004", "$0.00095", "$0.031", "$1.23", "$12,346", "<$0.00001", "$0",
    ]  # fmt: skip
