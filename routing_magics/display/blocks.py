"""Where streamed markdown can be cut into parts: block boundaries outside fenced code (pure)."""

from __future__ import annotations

import re

_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t\r]*")
_INDENT_OR_BLANK = " \t\r\n"


class Part(str):
    """A part's exact text; `opener` is the fence line to render before it when the part
    continues a code fence that an earlier part began (the text itself stays untouched)."""

    opener: str = ""


def _part(text: str, opener: str) -> Part:
    part = Part(text)
    part.opener = opener
    return part


class BlockSplitter:
    """Cuts streamed markdown into parts of at least `min_chars` at block boundaries.

    A boundary is the start of a non-indented line after a blank line, outside fenced code;
    inside a fence that has grown past `fence_chars` in one part, any line start that does
    not close the fence (so one huge code block still streams in O(n) bytes). A boundary is
    known as soon as that line's first character arrives, and where it falls depends on the
    text alone, so any chunking of the same text yields the same parts.
    """

    def __init__(self, min_chars: int, fence_chars: int | None = None) -> None:
        self.min_chars = min_chars
        self.fence_chars = 2 * min_chars if fence_chars is None else fence_chars
        self.tail_opener = ""  # the fence line the tail continues, if it began inside one
        self._fence_line = ""  # the line that opened the current fence
        self._fence_body = 0  # where, in the tail, the fence's code lines begin
        self.tail = ""  # text not yet emitted as a part
        self._line_start = 0  # index in tail of the line being read
        self._line_checked = False  # whether that line's first character was looked at
        self._after_blank = False
        self._fence: tuple[str, int] | None = None  # (marker char, length) while in a fence

    def feed(self, text: str) -> list[Part]:
        """Add text; return the parts it completed."""
        self.tail += text
        parts: list[Part] = []
        while self._line_start < len(self.tail):
            if not self._line_checked:
                self._line_checked = True
                in_fence = self._at_fence_cut()
                if in_fence or self._at_boundary():
                    parts.append(_part(self.tail[: self._line_start], self.tail_opener))
                    self.tail = self.tail[self._line_start :]
                    self.tail_opener = self._fence_line if in_fence else ""
                    self._line_start = self._fence_body = 0
            end = self.tail.find("\n", self._line_start)
            if end < 0:
                break
            opened = self._fence is None
            self._read_line(self.tail[self._line_start : end])
            if opened and self._fence is not None:
                self._fence_body = end + 1
            self._line_start, self._line_checked = end + 1, False
        return parts

    def finish(self) -> Part:
        """The rest of the text: the last part."""
        rest = _part(self.tail, self.tail_opener)
        self.tail, self.tail_opener, self._line_start = "", "", 0
        return rest

    def _at_fence_cut(self) -> bool:
        return (
            self._fence is not None
            and self._line_start - self._fence_body >= self.fence_chars
            and self.tail[self._line_start] != self._fence[0]  # maybe the closing line: keep
        )

    def _at_boundary(self) -> bool:
        return (
            self._after_blank
            and self._fence is None
            and self._line_start >= self.min_chars
            and self.tail[self._line_start] not in _INDENT_OR_BLANK
        )

    def _read_line(self, line: str) -> None:
        if self._fence is not None:
            close = _FENCE_CLOSE.fullmatch(line)
            marker, length = self._fence
            if close and close.group(1)[0] == marker and len(close.group(1)) >= length:
                self._fence = None
            return
        self._after_blank = not line.strip()
        opened = _FENCE_OPEN.fullmatch(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            self._fence = (opened.group(1)[0], len(opened.group(1)))
            self._fence_line = line.lstrip(" \t") + "\n"
