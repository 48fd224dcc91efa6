"""What a prompt says, for structured answers: its subject, key words, names, numbers, mood.

The subject is the prompt after a short leading instruction ("Extract the fields from this
ticket: …"), so values come from the ticket rather than from the request's own words.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .sentiment import classify
from .summaries import STOPWORDS, content_words, split_sentences

# A first line's instruction, up to a colon that whitespace follows (so "10:30" is no colon).
_INSTRUCTION = re.compile(r"\A[^:\n]{1,80}:\s+(?=\S)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
_CAPITALISED = re.compile(r"[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*")
_NAME_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s)>\]]+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_REQUEST = _words("please extract fields field give tell answer read classify")
_URGENT_WORDS = _words("urgent urgently asap now immediately emergency critical today")
_URGENCY_NAMES = _words("urgent urgency asap priority critical emergency escalate")
_BOOLEAN_HEADS = _words("is has have needs need requires was can")
# Field names, by the kind of text that fits them.
_SUMMARY = _words("""summary description bio abstract explanation reason reasoning comment note
    notes text message answer details gist overview synopsis""")
_TITLE = _words("title headline subject heading caption")
_PERSON = _words("name person author customer user who owner contact company product")
_PLACE = _words("city place location country town region where")
_MOOD = _words("sentiment label mood tone polarity feeling emotion")
_TAGS = _words("tag tags keyword keywords topic topics theme themes category kind")
_CODE = _words("id code zip postcode sku ref reference phone serial")
_FORMATS = {"date": "2025-01-01", "date-time": "2025-01-01T00:00:00Z", "time": "09:00:00",
            "email": "someone@example.com", "uri": "https://example.com"}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """A prompt read for values; `key` seeds every pick, so the same prompt answers the same."""

    text: str
    key: str
    label: str
    polarity: int
    numbers: tuple[float, ...]
    words: frozenset[str]
    keywords: tuple[str, ...]
    sentences: tuple[str, ...]

    @property
    def urgent(self) -> bool:
        return bool(self.words & _URGENT_WORDS)

    def count(self, objects: bool) -> int:
        """How many items an array gets (1–3): one per sentence, or per key word."""
        return max(1, min(3, len(self.sentences if objects else self.keywords)))

    def item(self, index: int) -> Source:
        """The source of an array's item `index`: its sentence, the key words rotated."""
        sentence = self.sentences[index % len(self.sentences)] if self.sentences else self.text
        shifted = self.keywords[index:] + self.keywords[:index]
        part = source_of(sentence, f"{self.key}·{index}")
        return replace(part, keywords=shifted or part.keywords)


def source_of(prompt: str, key: str | None = None) -> Source:
    """`prompt` read for values: its subject's words, numbers, sentences and sentiment."""
    match = _INSTRUCTION.match(prompt)
    subject = prompt[match.end() :] if match else prompt
    label, polarity = classify(subject)
    found = [w for w in content_words(subject) if len(w) > 2 and w not in _REQUEST]
    return Source(
        text=subject.strip(),
        key=prompt if key is None else key,
        label=label,
        polarity=polarity,
        numbers=tuple(float(n) for n in _NUMBER.findall(subject)),
        words=frozenset(re.findall(r"[a-z0-9]+", subject.lower())),
        keywords=tuple(w for w, _ in Counter(found).most_common(6)),
        sentences=tuple(split_sentences(subject)),
    )


def pick(key: str, options: Sequence[Any]) -> Any:
    """One of `options`, chosen by a hash of `key`: same prompt, same choice."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def name_words(name: str) -> list[str]:
    """A field name's words, lower-case: 'isUrgent' and 'is_urgent' → ['is', 'urgent']."""
    return [w.lower() for w in _NAME_PART.findall(name)]


def says(words: Sequence[str], source: Source) -> bool:
    """A boolean field: whether the text says what the field's name asks."""
    named = set(words)
    if named & _URGENCY_NAMES or not named - _BOOLEAN_HEADS:
        return source.urgent
    moods = named & {"positive", "negative", "neutral"}
    if moods:
        return source.label in moods
    stems = [w[:5] for w in words if w not in _BOOLEAN_HEADS and len(w) > 2]
    return any(t.startswith(s) for s in stems for t in source.words)


def proper_noun(text: str) -> str | None:
    """The first run of capitalised words, leading stopwords dropped; a lone capitalised word
    that starts a sentence does not count."""
    for match in _CAPITALISED.finditer(text):
        words = match.group().split()
        kept = list(words)
        while kept and kept[0].lower() in STOPWORDS:
            kept.pop(0)
        starts = text[: match.start()].rstrip()[-1:] in ("", ".", "!", "?", ":")
        if kept and not (starts and len(words) < 2):
            return " ".join(kept).removesuffix("'s").removesuffix("’s")
    return None


def sentence(source: Source, words: int) -> str:
    """The subject's first sentence, cut to `words` words."""
    first = source.sentences[0] if source.sentences else source.text
    parts = first.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "") if parts else "(none)"


def text_value(schema: Mapping[str, Any], name: str, source: Source) -> str:
    """A string for the field `name`, fitted to minLength/maxLength."""
    text = formatted(schema.get("format"), source) or phrase(name, schema, source)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(high, int) and len(text) > high:
        text = text[:high].rstrip() if text[:high].strip() else text[:high]
    if isinstance(low, int) and len(text) < low:
        text = text.ljust(low, ".")
    return text


def formatted(kind: Any, source: Source) -> str | None:
    """A value for a string `format`: found in the text, else a fixed example."""
    if not isinstance(kind, str):
        return None
    pattern = {"email": _EMAIL, "uri": _URL, "date": _DATE}.get(kind)
    found = pattern.search(source.text) if pattern is not None else None
    return found.group() if found else _FORMATS.get(kind)


def phrase(name: str, schema: Mapping[str, Any], source: Source) -> str:
    """Short text that fits the field's name (or its description)."""
    words = set(name_words(name))
    about = str(schema.get("description") or "").lower()
    if words & _MOOD:
        return source.label
    if words & _CODE:  # e.g. "SKU-4821": plainly made up, and stable
        return f"{name.upper()[:3]}-{pick(f'{source.key}·{name}', range(1000, 10000))}"
    if words & _SUMMARY or "sentence" in about or "summar" in about:
        return sentence(source, 25)
    if words & _TITLE:
        return " ".join(k.capitalize() for k in source.keywords[:3]) or sentence(source, 5)
    if words & (_PERSON | _PLACE):
        return proper_noun(source.text) or "Unknown"
    if words & _TAGS:
        return source.keywords[0] if source.keywords else "general"
    if "language" in words or "lang" in words:
        return "English"
    return sentence(source, 8)
