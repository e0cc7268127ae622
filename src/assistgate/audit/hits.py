"""Where one rule matched one record: the words, their place, and whether they still count."""

from __future__ import annotations

from dataclasses import dataclass

from assistgate.audit.rules import Rule


@dataclass(frozen=True, slots=True)
class Hit:
    """One place where one rule matched: the words, where they are, and whether they count."""

    rule: Rule
    field: str
    first: int
    last: int
    quote: str
    masked_by: str = ""

    def overlaps(self, other: Hit) -> bool:
        return self.field == other.field and self.first <= other.last and other.first <= self.last


def quoted(hits: list[Hit]) -> str:
    """Return the hits' words, each once, quoted and joined by commas."""
    seen: list[str] = []
    for h in hits:
        if h.quote not in seen:
            seen.append(h.quote)
    return ", ".join(f'"{q}"' for q in seen)
