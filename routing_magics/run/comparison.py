"""What `-o cmp` binds after `%%route route/a,route/b`: each model's result, by model id.

A plain value (no renderer, no network): `cmp["route/a"]` is that model's result as a single
cell's `-o` binds it (partial text kept when it failed), iterating gives the model ids in the
order the cell named them, `cmp.failures` says which failed and why, and `cmp.summary` is the
figures table as a pandas DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Any

from ..api.errors import ConfigurationError
from ..api.models import Completion
from ..display.figures import ModelFigures, cheapest, fastest


class Comparison(Mapping[str, Completion]):
    """Several models' answers to one prompt, in the order the cell named them."""

    def __init__(self, results: Mapping[str, Completion], figures: list[ModelFigures]) -> None:
        self._results = dict(results)
        self.figures = list(figures)

    def __getitem__(self, model: str) -> Completion:
        try:
            return self._results[model]
        except KeyError:
            raise KeyError(f"{model!r} was not compared; the models are "
                           f"{', '.join(self._results)}") from None  # fmt: skip

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def failures(self) -> dict[str, str]:
        """The models that did not answer, each with its one-line error."""
        return {f.model: f.error or f.outcome for f in self.figures if not f.answered}

    @property
    def fastest(self) -> str | None:
        return fastest(self.figures)

    @property
    def cheapest(self) -> str | None:
        return cheapest(self.figures)

    @property
    def summary(self) -> Any:
        """The figures table as a pandas DataFrame indexed by model (pandas is needed)."""
        try:
            import pandas as pd
        except ImportError:
            raise ConfigurationError(
                "cmp.summary is a pandas DataFrame, and pandas is not installed",
                hint="python -m pip install pandas; cmp.figures holds the same figures",
            ) from None
        rows = [_row(f, self.fastest, self.cheapest) for f in self.figures]
        return pd.DataFrame.from_records(rows, index="model")

    def __repr__(self) -> str:
        said = ", ".join(f"{m}: {f.outcome}" for m, f in zip(self, self.figures, strict=True))
        return f"Comparison({said})"


def _row(f: ModelFigures, fast: str | None, cheap: str | None) -> dict[str, Any]:
    row = asdict(f)
    row["ttft_s"] = None if f.ttft_ms is None else f.ttft_ms / 1000
    del row["ttft_ms"]
    row["fastest"], row["cheapest"] = f.model == fast, f.model == cheap
    return row
