"""Whether several models gave one row the same short answer (`--each` with several models).

Pure: answers in, counts out. Two answers agree when they are equal once case and surrounding
whitespace are ignored ("Positive" and " positive\n" agree). Only short answers are compared
(labels, numbers, yes/no): a paragraph is never word for word the same, and saying "0% agree"
of prose would say nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

#: The longest answer compared, in characters (after stripping).
SHORT_ANSWER = 60


@dataclass(frozen=True)
class Agreement:
    """How many rows were compared (every model answered, all short), how many agreed, and the
    rows where they did not: (row label, each model's answer)."""

    compared: int
    agreed: int
    long_rows: int  # rows every model answered with at least one answer too long to compare
    disagreements: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def normalized(answer: str) -> str:
    return answer.strip().casefold()


def agreement(labels: Sequence[object], answers: Sequence[Sequence[str | None]]) -> Agreement:
    """`answers[m][r]` is model m's answer to row r (None: no answer)."""
    compared = agreed = long_rows = 0
    disagreements: list[tuple[str, list[str]]] = []
    for position, label in enumerate(labels):
        row = [column[position] for column in answers]
        if any(a is None for a in row):
            continue
        texts = [a for a in row if a is not None]
        if any(len(a.strip()) > SHORT_ANSWER for a in texts):
            long_rows += 1
            continue
        compared += 1
        if len({normalized(a) for a in texts}) == 1:
            agreed += 1
        else:
            disagreements.append((str(label), [a.strip() for a in texts]))
    return Agreement(compared, agreed, long_rows, disagreements)
