"""The footer's budget left: said only when a budget is set, as an estimate, escaped in HTML."""

from __future__ import annotations

from routing_magics.display.protocols import CostInfo, FooterInfo
from routing_magics.display.render import footer_html, footer_text


def info(cost: CostInfo) -> FooterInfo:
    return FooterInfo("route/glm-5", "crof", 400, 812, 240, False, 5_000, False, cost=cost)


def test_the_budget_left_follows_the_notebooks_cost() -> None:
    line = footer_text(info(CostInfo(0.0004, 0.031, budget_usd=2.0, budget_left_usd=1.969)))
    assert "notebook ≈ $0.031 · budget left ≈ $1.97 of $2.00 · notebook total" in line
    assert "budget left ≈ $1.97 of $2.00" in footer_html(info(CostInfo(0.0004, 0.031, False,
                                                                        2.0, 1.969)))  # fmt: skip


def test_no_budget_no_word_of_one_and_a_spent_one_reads_zero_left() -> None:
    assert "budget" not in footer_text(info(CostInfo(0.0004, 0.031)))
    spent = footer_text(info(CostInfo(0.0004, 0.031, budget_usd=0.01, budget_left_usd=0.0)))
    assert "budget left ≈ $0 of $0.01" in spent
