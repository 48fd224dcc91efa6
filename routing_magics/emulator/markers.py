"""The prompt modules' shared layout strings as regular expressions.

The emulator finds what prompt/ wrote only by the strings prompt/ exports (prompt/frames.py,
prompt/history.py), never by wording of its own: a template's text is matched as it is, and
each `{field}` by the pattern the caller gives for it. Patterns are built when a request is
answered, from the strings as they are then (Python's `re` caches the compiled forms).
"""

from __future__ import annotations

import re
import string


def template_pattern(template: str, **fields: str) -> str:
    """A regex for `template`: its text escaped, each `{field}` a named group of `fields[field]`."""
    parts: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"(?P<{field}>{fields[field]})")
    return "".join(parts)
