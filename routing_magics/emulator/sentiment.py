"""Deterministic sentiment answers, so `--each` demos classify rows offline.

A request that mentions "sentiment" is answered with one word (positive, negative or neutral)
from a small word list over the text after "Review:" (or the whole prompt); when it asks for JSON,
with `{"sentiment": …, "score": …}` instead, the score being positive minus negative words.
Reasoning routes read a mixed review by its last "but" clause, so routes can disagree.
"""

from __future__ import annotations

import json
import re

_POSITIVE = frozenset(
    [
        "good",
        "great",
        "excellent",
        "love",
        "loved",
        "lovely",
        "fast",
        "friendly",
        "perfect",
        "best",
        "happy",
        "recommend",
        "amazing",
        "wonderful",
        "fine",
        "works",
        "nice",
        "helpful",
        "easy",
    ]
)
_NEGATIVE = frozenset(
    [
        "bad",
        "awful",
        "terrible",
        "hate",
        "hated",
        "slow",
        "broken",
        "worst",
        "poor",
        "rude",
        "refund",
        "late",
        "never",
        "disappointing",
        "disappointed",
        "useless",
        "cold",
        "noisy",
    ]
)
_WORD = re.compile(r"[a-z']+")


def wants_sentiment(text: str) -> bool:
    return "sentiment" in text.lower()


def classify(text: str) -> tuple[str, int]:
    """(positive | negative | neutral, praise words minus complaint words) of `text`."""
    words = _WORD.findall(text.lower())
    score = sum(w in _POSITIVE for w in words) - sum(w in _NEGATIVE for w in words)
    return ("positive" if score > 0 else "negative" if score < 0 else "neutral"), score


def sentiment_answer(text: str, *, weigh_contrast: bool = False) -> tuple[str, str]:
    """(content, reasoning) for a sentiment request. `weigh_contrast` (a reasoning route): a
    mixed review that turns on "but" is judged by what follows it, where a route that does not
    reason calls it neutral; so routes differ on such reviews, as real ones do."""
    review = text.split("Review:", 1)[1] if "Review:" in text else text
    label, score = classify(review)
    reasoning = f"Counting praise and complaints in the review gives {score:+d}, so {label}."
    turn = re.split(r"\bbut\b", review, flags=re.IGNORECASE)
    if weigh_contrast and score == 0 and len(turn) > 1 and classify(turn[-1])[1] != 0:
        label, score = classify(turn[-1])
        reasoning = f"Mixed, but it turns on its last clause: {score:+d} there, so {label}."
    if "json" in text.lower():
        return json.dumps({"sentiment": label, "score": score}), reasoning
    return label, reasoning
