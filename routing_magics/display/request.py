"""What a request sends, shown before sending (`%%route … --dry-run`): every message, escaped,
with the estimated prompt tokens and, where prices are known, their cost."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from . import styles
from .money import estimate

Bundle = dict[str, str]


def request_bundle(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    prompt_tokens: int,
    cost_usd: float | None,
) -> Bundle:
    """Text and escaped HTML: a heading line, then each message under its role."""
    shown = {k: v for k, v in params.items() if k != "tools"}
    settings = ", ".join(f"{k}={json.dumps(v)}" for k, v in shown.items())
    head = (
        f"Dry run: nothing was sent. {model} · {len(messages)} messages · "
        f"≈ {prompt_tokens:,} tokens in · cost {estimate(cost_usd)}"
        + (f" · {settings}" if settings else "")
    )
    texts = [(str(m.get("role", "?")), str(m.get("content") or "")) for m in messages]
    plain = "\n\n".join([head, *(f"--- {role}\n{content}" for role, content in texts)])
    blocks = "".join(
        f'<div><b>{html.escape(role)}</b><pre style="white-space:pre-wrap">'
        f"{html.escape(content)}</pre></div>"
        for role, content in texts
    )
    return {
        "text/plain": plain,
        "text/html": (
            f'<div class="routing-magics-dry-run {styles.NO_MATH}" style="{styles.SCROLL_X}">'
            f"<p>{html.escape(head)}</p>{blocks}</div>"
        ),
    }
