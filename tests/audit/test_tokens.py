"""Words as the rules read them: punctuation, slashes, dotted acronyms, breaks, misspellings."""

from __future__ import annotations

import pytest

from assistgate.audit.tokens import Speller, tokenize, within_one_edit


def _words(text: str) -> str:
    return tokenize(text).joined


def test_punctuation_is_dropped_and_slashes_and_ampersands_are_kept_as_words() -> None:
    assert _words("REQ ASST. W/ICE, 10-78!") == "REQ ASST W / ICE 10-78"
    assert _words("Immigration & Customs") == "IMMIGRATION & CUSTOMS"


def test_a_dotted_acronym_keeps_its_dots_with_or_without_the_last_one() -> None:
    assert _words("I.C.E. REQ") == "I.C.E REQ"
    assert _words("i.c.e req") == "I.C.E REQ"
    assert _words("U.S.IMMIGRATION") == "U.S IMMIGRATION"


def test_a_possessive_is_dropped_and_other_apostrophes_join_the_word() -> None:
    assert _words("HERO'S NERO\u2019S REC'D") == "HERO NERO RECD"


def test_words_inside_other_words_stay_whole() -> None:
    assert _words("POLICE NOTICE ZERO HERO ICEPLEX") == "POLICE NOTICE ZERO HERO ICEPLEX"


def test_each_word_maps_back_to_its_place_in_the_original_text() -> None:
    words = tokenize("  4B12: ice agt, REQ unit ")
    first, last = words.token_span(words.joined.index("ICE"), words.joined.index("UNIT") + 4)
    assert words.quote(first, last) == "ice agt, REQ unit"


def test_commas_periods_and_spaced_dashes_break_clauses_but_slashes_do_not() -> None:
    words = tokenize("ICE, REQ - UNIT W/ HSI")
    assert sorted(words.breaks) == [1, 2]
    assert [words.joined[a:b] for a, b in words.clauses()] == ["ICE", "REQ", "UNIT W / HSI"]


@pytest.mark.parametrize(
    ("typo", "word"),
    [
        ("IMMIGRATON", "IMMIGRATION"),
        ("IMMAGRATION", "IMMIGRATION"),
        ("IMMIGRAITON", "IMMIGRATION"),
        ("IMMIIGRATION", "IMMIGRATION"),
        ("BOARDER", "BORDER"),
    ],
)
def test_a_long_word_one_edit_away_reads_as_the_listed_word(typo: str, word: str) -> None:
    speller = Speller(["IMMIGRATION", "BORDER", "REPORT", "DEPORT"], min_length=6)
    assert speller.correct(typo) == word


def test_a_listed_word_is_never_read_as_another_listed_word() -> None:
    speller = Speller(["REPORT", "DEPORT"], min_length=6)
    assert speller.correct("REPORT") == "REPORT"
    assert speller.correct("DEPORT") == "DEPORT"


def test_short_words_are_never_corrected() -> None:
    assert Speller(["BORDER"], min_length=6).correct("ORDER") == "ORDER"


def test_one_edit_means_one_insertion_deletion_substitution_or_swap() -> None:
    assert within_one_edit("ABCD", "ABXD")
    assert within_one_edit("ABCD", "ABD")
    assert within_one_edit("ABCD", "ABCDE")
    assert within_one_edit("ABCD", "BACD")
    assert not within_one_edit("ABCD", "BADC")
    assert not within_one_edit("ABCD", "AB")
