"""The public pages' catalogs: complete, nothing stale, placeholders kept, review recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistgate.transparency.i18n import (
    CODES,
    REVIEW_HEADER,
    CatalogError,
    catalog_path,
    choose,
    header_fields,
    languages,
    negotiate,
    public_messages,
    read_catalog,
    review_of,
)

TRANSLATED = [code for code in CODES if code != "en"]


def test_the_pages_mark_their_words_for_translation() -> None:
    words = public_messages()
    assert "It is safe to call the police" in words
    assert "Requests received each month" in words  # from the charts' module, not a template
    assert len(words) > 100


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_catalog_translates_every_word_of_the_pages_and_nothing_else(code: str) -> None:
    catalog = read_catalog(code)  # refuses fuzzy and empty entries
    words = set(public_messages())
    held = {m.id for m in catalog if m.id}
    assert not sorted(words - held), f"{code}: missing translations"
    assert not sorted(held - words), f"{code}: translations of words no page uses"
    assert not list(catalog.check()), f"{code}: placeholders differ from the English"


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_catalog_records_that_no_qualified_translator_has_reviewed_it(code: str) -> None:
    assert header_fields(catalog_path(code))[REVIEW_HEADER] == "unreviewed"
    assert review_of(code) == ""
    assert not languages()[code].reviewed


def test_the_languages_have_their_names_and_direction() -> None:
    found = {code: (lang.name, lang.direction) for code, lang in languages().items()}
    assert found["ar"] == ("العربية", "rtl")
    assert found["uk"] == ("Українська", "ltr")
    assert found["rw"] == ("Ikinyarwanda", "ltr")
    assert [c for c, (_, d) in found.items() if d == "rtl"] == ["ar"]


def test_the_address_then_the_cookie_then_the_browser_choose_the_language() -> None:
    assert choose("ar", "es", "fr") == "ar"
    assert choose(None, "es", "fr") == "es"
    assert choose(None, "zz", "fr-CA,fr;q=0.9") == "fr"
    assert choose(None, None, "de") == "en"
    assert negotiate("en;q=0.3, ne;q=0.9, so") == "so"
    assert negotiate("ne;q=0, uk;q=0.1") == "uk"


def test_a_broken_catalog_is_refused_with_its_file_and_entry_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistgate.transparency import i18n

    original = catalog_path("es").read_text(encoding="utf-8")
    fuzzy = original.replace('msgid "Skip to content"', '#, fuzzy\nmsgid "Skip to content"')
    target = tmp_path / "es" / "LC_MESSAGES" / "public.po"
    target.parent.mkdir(parents=True)
    target.write_text(fuzzy, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    with pytest.raises(CatalogError, match=r"public\.po:\d+: 'Skip to content' is marked fuzzy"):
        read_catalog("es")
    target.write_text(original.replace(f'"{REVIEW_HEADER}: unreviewed\\n"\n', ""), "utf-8")
    with pytest.raises(CatalogError, match=REVIEW_HEADER):
        review_of("es")
    target.write_text(original.replace("unreviewed", "reviewed by A. Translator, 2027-01-05"),
                      "utf-8")  # fmt: skip
    assert review_of("es") == "A. Translator, 2027-01-05"
    target.write_text(original.replace("unreviewed", "looked at it"), "utf-8")
    with pytest.raises(CatalogError, match="looked at it"):
        review_of("es")


def test_every_code_the_public_pages_can_show_has_words_in_every_language() -> None:
    from assistgate.policy import default_registry
    from assistgate.policy.facts import ACTIONS, AGENCIES
    from assistgate.requests.enums import ExceptionKind
    from assistgate.transparency import labels
    from assistgate.transparency.i18n import coded
    from assistgate.transparency.public_log import COLUMNS
    from assistgate.transparency.records import OUTCOME_CATEGORIES

    grounds = {g.id for p in default_registry().all_versions() for g in p.grounds}
    assert set(labels.AGENCIES) == set(AGENCIES)
    assert set(labels.ACTIONS) == set(ACTIONS)
    assert set(labels.OUTCOMES) == set(OUTCOME_CATEGORIES)
    assert set(labels.EXCEPTIONS) == {k.value for k in ExceptionKind}
    assert set(labels.GROUNDS) == grounds
    assert tuple(labels.LOG_COLUMNS) == COLUMNS
    spanish = languages()["es"]
    assert coded(spanish, labels.AGENCIES, "cbp") == "Oficina de Aduanas y Protección Fronteriza"
    assert coded(spanish, labels.GROUNDS, "no-such-ground") == ""
    tables = (labels.AGENCIES, labels.ACTIONS, labels.OUTCOMES, labels.DECISIONS,
              labels.EXCEPTIONS, labels.GROUNDS, labels.LOG_COLUMNS)  # fmt: skip
    for code in TRANSLATED:
        say = languages()[code].gettext
        # "Action" and "Exception" are French as they are; the data's words differ everywhere.
        same = [w for t in tables for w in t.values() if say(w) == w and len(w) > 3]
        assert not same, f"{code}: untranslated words of the data: {same}"
