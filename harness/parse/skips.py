"""Bookkeeping for lines a parser could not use.

Parsers never raise on bad input: a run that printed one garbled line must still yield
every good line. What they drop is counted and the first few examples kept, so a report
can say "3 gctrace lines unreadable" and show them instead of silently losing data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_EXAMPLES = 5
MAX_EXAMPLE_CHARS = 200


@dataclass
class SkipLog:
    """Counts skipped lines; keeps the first MAX_EXAMPLES, each cut to MAX_EXAMPLE_CHARS."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(line[:MAX_EXAMPLE_CHARS])


def require_text(text: object, parser: str) -> str:
    """The one error parsers raise: a caller bug (bytes, None), not bad data."""
    if not isinstance(text, str):
        raise TypeError(f"{parser} takes str, not {type(text).__name__}")
    return text


def lines(text: str) -> list[str]:
    r"""Split on "\n" only, as Go's runtime writes it; a trailing "\r" is dropped.

    str.splitlines would also split on \x1c, \x85, \u2028 and friends, which can turn
    one intact record with a stray control character in it into two broken ones.
    """
    return [line.removesuffix("\r") for line in text.split("\n")]
