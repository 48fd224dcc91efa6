"""Deterministic, useful answers: pure functions of the request's messages.

A request for a structured answer (`--schema`: a forced answer tool, or the schema in the
system message) gets one object that matches it (structured.py). Otherwise the last user message
(and the system message) is the task, checked in this order: `echo:` → the rest verbatim;
"sentiment" → one word (or JSON); a data block → facts computed from the table;
"summar"/"bullet" → extractive bullets; anything else → a markdown answer with a heading, list,
table and code.
Every answer also gets a short reasoning text that restates the task (sent on reasoning routes).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import fixes, sentiment, structured, summaries, tables
from .tools import ToolCall, answer_from_tool_result, plan_tool_calls, tool_call_reasoning

Message = Mapping[str, Any]

_TOKEN_RE = re.compile(r"(\s*)(\S+)|(\s+)")
MAX_TOKEN_CHARS = 6
# Words that say what to do rather than what about: poor topics for the generic answer.
_REQUEST_TEXT = """please write explain describe compare give make show tell list help use using
    need want best way good short brief quick example examples code simple"""
_REQUEST_WORDS = frozenset(_REQUEST_TEXT.split())
_REASONING_CLOSE = "Then I'll check the result and the formatting before I answer."


@dataclass(frozen=True)
class Answer:
    content: str
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


def tokenize(text: str) -> list[str]:
    """Tokens that join back to `text`: a word with its leading whitespace, long words cut."""
    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(text):
        lead, word = match.group(1) or "", match.group(2)
        if word is None:
            tokens.append(match.group(3))
            continue
        parts = [word[i : i + MAX_TOKEN_CHARS] for i in range(0, len(word), MAX_TOKEN_CHARS)]
        tokens.append(lead + parts[0])
        tokens.extend(parts[1:])
    return tokens


def message_text(message: Message) -> str:
    """A message's text: a string, or the text parts of a content list."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, Mapping)]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def prompt_tokens(messages: Sequence[Message]) -> int:
    """≈ characters / 4 over every message, rounded up, at least 1."""
    chars = sum(len(message_text(m)) for m in messages)
    return max(1, -(-chars // 4))


def last_user_text(messages: Sequence[Message]) -> str:
    users = [message_text(m) for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def system_text(messages: Sequence[Message]) -> str:
    return "\n".join(message_text(m) for m in messages if m.get("role") in ("system", "developer"))


def stable_pick(key: str, options: Sequence[str]) -> str:
    """One of `options`, chosen by a hash of `key`: same prompt, same wording."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return options[digest[0] % len(options)]


def quote(text: str, words: int = 10, chars: int = 60) -> str:
    """The first line of `text`, cut to `words` words and about `chars` characters."""
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    kept: list[str] = []
    for word in first.split()[:words]:
        if kept and len(" ".join([*kept, word])) > chars:
            break
        kept.append(word[:chars])
    cut = " ".join(kept)
    return (cut + (" …" if cut != first else "")) if kept else "(empty)"


def with_closing(reasoning: str) -> str:
    return f"{reasoning} {_REASONING_CLOSE}"


def compose_answer(
    messages: Sequence[Message],
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    *,
    reasoning: bool = False,
    careless: bool = False,
) -> Answer:
    """The answer to a chat request; `reasoning` adds the reasoning text, `careless` makes a
    structured answer invalid (the `invalid_structured` fault)."""
    task = structured.find_task(messages, tools or (), tool_choice)
    if task is not None:
        content, thoughts, calls = structured.reply(task, careless)
        answer = Answer(content, with_closing(thoughts), calls)
    else:
        answer = _respond(messages, tools or (), tool_choice, reasoning)
    return answer if reasoning else Answer(answer.content, "", answer.tool_calls)


def _respond(
    messages: Sequence[Message], tools: Sequence[Any], tool_choice: Any, reasoning: bool = False
) -> Answer:
    user = last_user_text(messages)
    calls = plan_tool_calls(tools, tool_choice, messages, user) if tools else ()
    if calls:
        return Answer("", with_closing(tool_call_reasoning(calls, quote(user))), calls)
    if messages and messages[-1].get("role") == "tool":
        content, thoughts = answer_from_tool_result(messages, quote(user))
        return Answer(content, with_closing(thoughts))
    stripped = user.lstrip()
    if stripped.startswith("echo:"):
        return echo_answer(stripped)
    if sentiment.wants_sentiment(user):
        content, thoughts = sentiment.sentiment_answer(user, weigh_contrast=reasoning)
        return Answer(content, with_closing(thoughts))
    cells = fixes.context_answer(user)
    if cells is not None:
        return Answer(cells[0], with_closing(cells[1]))
    failed = fixes.fix_blocks(user)
    if failed is not None:
        content, thoughts = fixes.fix_answer(*failed)
        return Answer(content, with_closing(thoughts))
    block = tables.find_data_block(user)
    if block is not None:
        return table_answer(user, block)
    system = system_text(messages)
    if summaries.wants_summary(system) or summaries.wants_summary(user):
        return summary_answer(system, user)
    return generic_answer(user)


def echo_answer(text: str) -> Answer:
    """`echo: X` → exactly X (one optional space after the colon is dropped)."""
    rest = text[len("echo:") :]
    rest = rest[1:] if rest.startswith(" ") else rest
    thoughts = (
        f"The user wants their text repeated back exactly, {len(rest)} characters of it. "
        "I must not add a greeting, quotes or any explanation, and I must keep every character, "
        "including markup, spacing and line breaks, as it was sent."
    )
    return Answer(rest, with_closing(thoughts))


def table_answer(user: str, block: tables.DataBlock) -> Answer:
    question = tables.question_outside(user, block)
    content, columns = tables.table_facts(block, question)
    described = ", ".join(columns) if columns else "the columns"
    thoughts = (
        f"The user asks “{quote(question)}” about {block.label.strip('`')}: "
        f"{block.total_rows:,} rows × {block.total_columns} columns, {len(block.rows):,} shown. "
        f"I'll compute min, max and mean of {described} from the rows shown and say that the "
        "figures cover only those rows."
    )
    return Answer(content, with_closing(thoughts))


def summary_answer(system: str, user: str) -> Answer:
    content, wanted, paragraph_count = summaries.summary_bullets(system, user)
    thoughts = (
        f"The user wants a summary of a {paragraph_count}-paragraph text in {wanted} bullet "
        "points. I'll split it into sentences, score each by how many of the text's frequent "
        "words it holds, and keep the best ones in their original order."
    )
    return Answer(content, with_closing(thoughts))


def keywords(text: str, count: int = 3) -> list[str]:
    """The question's most frequent content words, first-seen order breaking ties."""
    words = [
        w
        for w in summaries.content_words(text)
        if len(w) > 2 and w.isascii() and w not in _REQUEST_WORDS
    ]
    # most_common keeps first-seen order among equal counts (Counter preserves insertion order).
    found = [w for w, _ in Counter(words).most_common(count)]
    return found + ["approach", "data", "result"][: count - len(found)]


def generic_answer(user: str) -> Answer:
    """A markdown answer that exercises a heading, a list, a GFM table and a code block."""
    first, second, third = keywords(user)
    name = re.sub(r"\W+", "_", first).strip("_") or "topic"
    title, opening = _generic_lead(user, first, second)
    content = f"""## {title}

You asked: “{quote(user, 40, 200)}”. {opening} This reply comes from the offline routing.run \
emulator, so it shows the shape of a real answer rather than real expertise.

Key points:

- **{first}**: start from a small, concrete example and check each step.
- **{second}**: keep the inputs explicit, so the result can be reproduced later.
- **{third}**: compare at least two options before settling on one.
- Write down what you assumed; it is the first thing to revisit.

| Aspect | What to check | Why it matters |
|---|---|---|
| {first} | inputs and edge cases | wrong inputs give wrong answers |
| {second} | cost in time and tokens | fast loops mean more iterations |
| {third} | how the result is verified | trust comes from checks |

```python
def check_{name}(values: list[float]) -> dict[str, float]:
    \"\"\"Summarise some numbers before trusting them.\"\"\"
    return {{"count": len(values), "min": min(values), "max": max(values)}}


print(check_{name}([3, 1, 4, 1, 5]))
```

In short: begin small with {first}, make {second} explicit, and verify {third} before \
you rely on it."""
    thoughts = (
        f"The user asks: “{quote(user)}”. I'll answer in markdown with a heading, a short "
        f"paragraph, the key points about {first} and {second} as a list, a comparison table "
        "and a small Python example."
    )
    return Answer(content, with_closing(thoughts))


def _generic_lead(user: str, first: str, second: str) -> tuple[str, str]:
    """The generic answer's title and opening sentence, picked stably from the prompt."""
    titles = [f"About {first}", f"{first.capitalize()}: a short answer",
              f"Notes on {first} and {second}"]  # fmt: skip
    openings = [
        "Here is a compact overview to start from.",
        "The short version comes first, then the details.",
        "Below are the main points, a comparison and a small example.",
    ]
    return stable_pick(user, titles), stable_pick(user + "·", openings)
