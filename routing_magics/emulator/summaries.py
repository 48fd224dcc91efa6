"""Extractive summaries: the sentences that carry the text's most frequent words, as bullets."""

from __future__ import annotations

import re
from collections import Counter

DEFAULT_BULLETS = 5

_STOPWORD_TEXT = """a about above after again all also am an and any are as at be because
    been before being both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not of off on once only or other our ours out over own same she should
    so some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you
    your yours"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_BULLET_COUNT_RE = re.compile(
    r"\b(\d+|" + "|".join(_NUMBER_WORDS) + r")\s+(?:[a-z-]+\s+)?bullet", re.IGNORECASE
)
# An instruction before a colon that asks for the summary, e.g. "Summarise in 3 bullets: …".
_INSTRUCTION_RE = re.compile(r"\A[^:\n]*(?:summar|bullet)[^:\n]*:[ \t]*\n?", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")
_LIST_MARK_RE = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'’-]*")


def wants_summary(text: str) -> bool:
    """Whether an instruction asks for a summary or bullet points."""
    lowered = text.lower()
    return "summar" in lowered or "bullet" in lowered


def bullet_count(*instructions: str) -> int | None:
    """The N of 'N bullet points' in the first instruction that gives one."""
    for text in instructions:
        match = _BULLET_COUNT_RE.search(text)
        if match:
            word = match.group(1).lower()
            count = _NUMBER_WORDS.get(word) or int(word)
            return max(1, count)
    return None


def text_to_summarise(user_text: str) -> tuple[str, str]:
    """Split a user message into (instruction, text): the instruction is a leading '…:' line."""
    match = _INSTRUCTION_RE.match(user_text)
    if match:
        return match.group(0).strip(), user_text[match.end() :]
    first, newline, rest = user_text.partition("\n")
    if newline and first.rstrip().endswith(":"):
        return first.strip(), rest
    return "", user_text


def paragraphs(text: str) -> list[str]:
    return [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]


def split_sentences(text: str) -> list[str]:
    """Sentences in order; list items and paragraph breaks also end a sentence."""
    sentences: list[str] = []
    for block in paragraphs(text):
        if block.lstrip().startswith("#"):
            continue  # a markdown heading is a title, not a sentence worth a bullet
        lines = [_LIST_MARK_RE.sub("", line).strip() for line in block.splitlines()]
        items = [line for line in lines if line]
        is_list = all(_LIST_MARK_RE.match(line) for line in block.splitlines() if line.strip())
        pieces = items if is_list else [" ".join(items)]
        for piece in pieces:
            sentences.extend(s.strip() for s in _SENTENCE_END_RE.split(piece) if s.strip())
    return sentences


def content_words(sentence: str) -> list[str]:
    return [w for w in _WORD_RE.findall(sentence.lower()) if w not in STOPWORDS and len(w) > 1]


def top_sentences(text: str, count: int) -> list[str]:
    """The `count` sentences with the most frequent content words, in their original order."""
    sentences = split_sentences(text)
    words = [content_words(s) for s in sentences]
    frequency = Counter(w for sentence_words in words for w in sentence_words)

    def score(index: int) -> float:
        found = words[index]
        # Divide by sqrt(length): long sentences score higher, but not in proportion to length.
        return sum(frequency[w] for w in found) / (len(found) ** 0.5) if found else 0.0

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(i), i))[:count]
    return [sentences[i] for i in sorted(ranked)]


def summary_bullets(system_text: str, user_text: str) -> tuple[str, int, int]:
    """(markdown bullets, bullets asked for, paragraphs in the text) for a summary request."""
    instruction, text = text_to_summarise(user_text)
    wanted = bullet_count(system_text, instruction, user_text) or DEFAULT_BULLETS
    chosen = top_sentences(text, wanted)
    if not chosen:
        return "There is no text to summarise: put it after the instruction.", wanted, 0
    return "\n".join(f"- {sentence}" for sentence in chosen), wanted, len(paragraphs(text))
