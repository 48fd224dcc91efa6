"""Deterministic sentiment answers, so `--each` demos classify rows offline.

A request that mentions "sentiment" is answered with one word (positive, negative or neutral)
from a small word list over the text after "Review:" (or the whole prompt); when it asks for JSON,
with `{"sentiment": …, "score": …}` instead, the score being positive minus negative words.
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


def sentiment_answer(text: str) -> tuple[str, str]:
    """(content, reasoning) for a sentiment request."""
    review = text.split("Review:", 1)[1] if "Review:" in text else text
    label, score = classify(review)
    reasoning = f"Counting praise and complaints in the review gives {score:+d}, so {label}."
    if "json" in text.lower():
        return json.dumps({"sentiment": label, "score": score}), reasoning
    return label, reasoning
