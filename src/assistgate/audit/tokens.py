"""Split a dispatch remark into words, keeping each word's place in the original text.

Remarks are upper case, abbreviated and misspelt. The words are what the rules match: upper
case, punctuation dropped, "/" and "&" kept as words of their own ("W/" means "with"), dotted
acronyms kept with their dots ("I.C.E." reads "I.C.E", never "ICE" inside "POLICE"), codes such
as "10-78" kept whole, and a possessive "'S" dropped ("HERO'S" reads "HERO"). Long words within
one edit of a word the rules list under `spelling` are read as that word ("IMMIGRATON").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

_TOKEN = re.compile(
    r"(?P<acronym>[A-Za-z](?:\.[A-Za-z])+)\.?(?![A-Za-z0-9])"
    r"|(?P<code>\d+(?:-\d+)+)(?![A-Za-z0-9])"
    r"|(?P<word>[A-Za-z0-9]+(?:['\u2019][A-Za-z0-9]+)*)"
    r"|(?P<mark>[/&])"
)
_POSSESSIVE = re.compile(r"['\u2019][Ss]$")
# What ends a clause between two words: "ICE, REQ" is not "ICE REQ"; "W/" and "&" do not.
_BREAK = re.compile(r"[,;.:!?|*\"\n]|\s[-\u2013\u2014]+\s|--")


class Token(NamedTuple):
    """One word: its normalised form and where it sits in the original text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Words:
    """The words of one text, joined by single spaces, with a map back to the original."""

    original: str
    tokens: tuple[Token, ...]
    joined: str
    offsets: tuple[int, ...]
    breaks: frozenset[int] = frozenset()

    def token_span(self, start: int, end: int) -> tuple[int, int]:
        """Return the first and last token index covered by `joined[start:end]`."""
        first = bisect_right(self.offsets, start) - 1
        last = bisect_right(self.offsets, max(start, end - 1)) - 1
        return first, last

    def clauses(self) -> list[tuple[int, int]]:
        """Return the start and end of each clause in `joined` (clauses end at punctuation)."""
        if not self.breaks:
            return [(0, len(self.joined))]
        cuts = [self.offsets[i] for i in sorted(self.breaks)]
        starts = [0, *cuts]
        ends = [c - 1 for c in cuts] + [len(self.joined)]
        return list(zip(starts, ends, strict=True))

    def quote(self, first: int, last: int) -> str:
        """Return the original text from token `first` to token `last`, inclusive."""
        return self.original[self.tokens[first].start : self.tokens[last].end]


class Speller:
    """Read long misspelt words as the word the rules expect, within one edit."""

    def __init__(self, words: Iterable[str], min_length: int) -> None:
        self.words = frozenset(w.upper() for w in words)
        self.min_length = min_length
        self._by_length: dict[int, tuple[str, ...]] = {}
        for w in sorted(self.words):
            for n in (len(w) - 1, len(w), len(w) + 1):
                self._by_length[n] = (*self._by_length.get(n, ()), w)
        self.correct = lru_cache(maxsize=65536)(self._correct)

    def _correct(self, word: str) -> str:
        if len(word) < self.min_length or word in self.words or not word.isalpha():
            return word
        for candidate in self._by_length.get(len(word), ()):
            if within_one_edit(word, candidate):
                return candidate
        return word


def within_one_edit(a: str, b: str) -> bool:
    """Say whether `a` becomes `b` by one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def tokenize(text: str, speller: Speller | None = None) -> Words:
    """Split `text` into normalised words, keeping the character span of each."""
    tokens: list[Token] = []
    correct = speller.correct if speller is not None else None
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "acronym":
            word = m.group("acronym").upper()
        elif kind == "word":
            word = m.group()
            if "'" in word or "\u2019" in word:
                word = _POSSESSIVE.sub("", word).replace("'", "").replace("\u2019", "")
            word = word.upper()
            if correct is not None:
                word = correct(word)
        else:
            word = m.group()
        tokens.append(Token(word, m.start(), m.end()))
    offsets: list[int] = []
    breaks: set[int] = set()
    pos = 0
    previous_end = -1
    for i, t in enumerate(tokens):
        offsets.append(pos)
        pos += len(t.text) + 1
        # Most words are one space apart: only look for a clause break in anything else.
        spaced = t.start - previous_end == 1 and text[previous_end] == " "
        if i and not spaced and _BREAK.search(text, previous_end, t.start):
            breaks.add(i)
        previous_end = t.end
    joined = " ".join(t.text for t in tokens)
    return Words(text, tuple(tokens), joined, tuple(offsets), frozenset(breaks))
