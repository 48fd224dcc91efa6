"""This notebook's `--chat` memory: the exchanges so far, as messages for the next turn."""

from __future__ import annotations


class ChatMemory:
    """This notebook's `--chat` exchanges, oldest first."""

    def __init__(self) -> None:
        self._exchanges: list[tuple[str, str]] = []

    def add(self, user: str, assistant: str) -> None:
        self._exchanges.append((user, assistant))

    def reset(self) -> None:
        self._exchanges.clear()

    def __len__(self) -> int:  # exchanges: user + assistant pairs
        return len(self._exchanges)

    def messages(self) -> list[dict[str, str]]:
        """Fresh user/assistant message dicts, alternating, oldest first."""
        return [
            {"role": role, "content": content}
            for user, assistant in self._exchanges
            for role, content in (("user", user), ("assistant", assistant))
        ]
