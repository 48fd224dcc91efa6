"""What a batch will cost before it is sent: rows × models × estimated tokens × today's prices.

Input tokens are counted from the requests the rows built (the same estimate a cut stream's
usage gets: run/exchange.py `settled_usage`); output tokens are each request's `max_tokens` (a
bound), or, when the cell set none, ASSUMED_OUTPUT_TOKENS per answer, said as an assumption.
A route without a known price has an unknown part, never a free one. Pure: no request is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...api.models import ChatRequest
from ...api.pricing import PriceList
from ...display.money import estimate, usd
from ...prompt.prepare import estimate_tokens

#: Output tokens assumed per answer when the cell sets no `-m`: a few paragraphs, which is
#: more than the one-word labels batches often ask for, so the estimate errs high.
ASSUMED_OUTPUT_TOKENS = 500

#: The code of a batch declined before sending (ui/preflight.py): no model gets any row.
NOT_CONFIRMED = "NOT_CONFIRMED"


@dataclass(frozen=True)
class ModelEstimate:
    """One model's share of a batch: tokens over every row, and their cost (None: unpriced)."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


@dataclass(frozen=True)
class BatchEstimate:
    """The estimated cost of sending `rows` rows to each model, and how it was estimated."""

    rows: int
    models: tuple[ModelEstimate, ...]
    output_per_row: int
    output_bounded: bool  # True: -m bounds each answer; False: ASSUMED_OUTPUT_TOKENS
    prices_known: bool

    @property
    def requests(self) -> int:
        return self.rows * len(self.models)

    @property
    def cost_usd(self) -> float | None:
        """The priced models' total; None when no model has a known price."""
        known = [m.cost_usd for m in self.models if m.cost_usd is not None]
        return sum(known) if known else None

    @property
    def unpriced(self) -> tuple[str, ...]:
        return tuple(m.model for m in self.models if m.cost_usd is None)

    def describe(self) -> str:
        """One line: the cost, the requests, and how the tokens were estimated."""
        count = f"{self.rows:,} row{'' if self.rows == 1 else 's'}"
        shape = f"{count} × " + ", ".join(self._named(m) for m in self.models)
        tokens_in = self.models[0].prompt_tokens if self.models else 0  # each model's, alike
        each = " per model" if len(self.models) > 1 else ""
        out = (f"up to {self.output_per_row:,} out a row (-m)" if self.output_bounded
               else f"≈ {self.output_per_row:,} out a row (assumed; -m sets it)")  # fmt: skip
        return (
            f"Estimate: {self._cost_text()} for {self.requests:,} requests ({shape}) · "
            f"≈ {tokens_in:,} tokens in{each}, from the requests · {out} · "
            + ("today's prices" if self.prices_known else "no prices from routing.run")
        )

    def _named(self, share: ModelEstimate) -> str:
        unknown = share.cost_usd is None and self.prices_known
        return share.model + (": no known price" if unknown else "")

    def _cost_text(self) -> str:
        cost = self.cost_usd
        if cost is None:
            return "cost unknown"
        return estimate(cost) + (" (priced routes only)" if self.unpriced else "")


def estimate_batch(
    requests: Sequence[ChatRequest], models: Sequence[str], prices: PriceList | None
) -> BatchEstimate:
    """The cost of sending every request (one per row, built for one model) to each of `models`;
    the side-by-side flow passes several models, a plain `--each` its one."""
    prompt = sum(_prompt_tokens(request) for request in requests)
    bounds = [request.params.get("max_tokens") for request in requests]
    sizes = [b for b in bounds if isinstance(b, int) and b > 0]
    bounded = bool(sizes) and len(sizes) == len(bounds)
    per_row = max(sizes) if bounded else ASSUMED_OUTPUT_TOKENS
    completion = per_row * len(requests)
    shares = tuple(
        ModelEstimate(model, prompt, completion,
                      prices.cost(model, prompt, completion) if prices is not None else None)
        for model in dict.fromkeys(models)
    )  # fmt: skip
    return BatchEstimate(len(requests), shares, per_row, bounded, prices is not None)


def _prompt_tokens(request: ChatRequest) -> int:
    return sum(estimate_tokens(str(m.get("content") or "")) for m in request.messages)


def budget_line(left: float, budget: float, cost: float | None) -> str:
    """What the batch means for today's budget, in one line."""
    line = f"This notebook's budget has {estimate(left)} of {usd(budget)} left today"
    if cost is not None and cost > left:
        return line + ": the batch stops when it is spent (answered rows are kept)."
    return line + "."
