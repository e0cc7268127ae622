"""The public pages' languages: gettext catalogs, the visitor's choice, text direction.

The catalogs are the `.po` files under `locale/<code>/LC_MESSAGES/public.po`, written with Babel's
tools (see docs/PUBLIC_PAGES.md). They are read and compiled in memory when the service starts,
so no compiled `.mo` file is kept in the repository or has to be built before the first run, and
a catalog that is broken, incomplete or holds an unchecked (fuzzy) entry stops the service with
the file and the message named, instead of showing residents a half-translated page.

Each catalog says in its header whether a qualified translator has reviewed it:
    X-Translation-Review: unreviewed
or, once one has:
    X-Translation-Review: reviewed by NAME, YYYY-MM-DD
Until then the pages say so, in the language and in English.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import denormalize, read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "public"
SOURCE = "en"
# The languages of the city's immigrant communities, in the order the picker shows them
# (ISO 639-1 codes); English is the source text and has no catalog.
CODES = ("en", "es", "ar", "so", "sw", "ne", "vi", "fr", "rw", "uk")
REVIEW_HEADER = "X-Translation-Review"
_REVIEWED = re.compile(r"reviewed by (?P<who>.+), (?P<date>\d{4}-\d{2}-\d{2})")


class CatalogError(ValueError):
    """A translation catalog is missing, unreadable or incomplete; the message names the file."""


@dataclass(frozen=True)
class Language:
    """One language of the public pages and its translations."""

    code: str
    name: str  # in the language itself, as the picker shows it
    english_name: str
    direction: str  # "ltr" or "rtl"
    reviewed_by: str  # "" until a qualified translator has reviewed the catalog
    translations: NullTranslations

    @property
    def reviewed(self) -> bool:
        return self.code == SOURCE or bool(self.reviewed_by)

    def gettext(self, message: str) -> str:
        """Return `message` in this language."""
        return self.translations.gettext(message)


def catalog_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def header_fields(path: Path) -> dict[str, str]:
    """Return the header fields of a .po file (msgid ""), including ones Babel drops."""
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index('msgid ""')
    except ValueError as exc:
        raise CatalogError(f'{path}: no header entry (msgid "")') from exc
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith(("msgstr", '"')):
            break
        block.append(line)
    text = denormalize("\n".join(block).removeprefix("msgstr ").strip())
    fields = {}
    for entry in text.splitlines():
        name, sep, value = entry.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def read_catalog(code: str) -> Catalog:
    """Read the catalog of `code`, refusing fuzzy or empty translations."""
    path = catalog_path(code)
    if not path.is_file():
        raise CatalogError(f"{path}: no catalog for the language {code!r}")
    with path.open("rb") as f:
        try:
            catalog = read_po(f, locale=code, abort_invalid=True)
        except Exception as exc:  # Babel raises several kinds; the file is what matters here
            raise CatalogError(f"{path}: cannot be read: {exc}") from exc
    for message in catalog:
        if not message.id:
            continue
        where = f"{path}:{message.lineno}: {message.id!r}"
        if message.fuzzy:
            raise CatalogError(f"{where} is marked fuzzy (an unchecked translation)")
        if not message.string:
            raise CatalogError(f"{where} has no translation")
    return catalog


def review_of(code: str) -> str:
    """Return who reviewed the catalog of `code` and when, or "" if nobody has."""
    path = catalog_path(code)
    value = header_fields(path).get(REVIEW_HEADER)
    if value is None:
        raise CatalogError(f"{path}: the header lacks {REVIEW_HEADER} "
                           "(unreviewed, or reviewed by NAME, YYYY-MM-DD)")  # fmt: skip
    if value == "unreviewed":
        return ""
    if (match := _REVIEWED.fullmatch(value)) is None:
        raise CatalogError(f"{path}: {REVIEW_HEADER} must be 'unreviewed' or "
                           f"'reviewed by NAME, YYYY-MM-DD'; got {value!r}")  # fmt: skip
    return f"{match['who']}, {match['date']}"


def _compile(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _load(code: str) -> Language:
    locale = Locale.parse(code)
    native = locale.get_display_name(code) or code
    if code == SOURCE:
        translations: NullTranslations = NullTranslations()
        reviewed_by = ""
    else:
        translations = _compile(read_catalog(code))
        reviewed_by = review_of(code)
    return Language(code=code, name=native[:1].upper() + native[1:],
                    english_name=locale.english_name or code, direction=locale.text_direction,
                    reviewed_by=reviewed_by, translations=translations)  # fmt: skip


@cache
def languages() -> Mapping[str, Language]:
    """Load every language once (raises CatalogError naming the first bad catalog)."""
    return {code: _load(code) for code in CODES}


def negotiate(accept_language: str) -> str | None:
    """Return the first of our languages a browser's Accept-Language header asks for."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary in CODES and quality > 0:
            wanted.append((-quality, index, primary))
    return min(wanted)[2] if wanted else None


def choose(asked: str | None, remembered: str | None, accept_language: str) -> str:
    """Pick the language: the one asked for in the address, the one remembered, the browser's."""
    for code in (asked, remembered):
        if code in CODES:
            return code
    return negotiate(accept_language) or SOURCE


def missing_translations(code: str, msgids: Iterable[str]) -> list[str]:
    """Return the msgids that the catalog of `code` does not translate."""
    catalog = read_catalog(code)
    return [m for m in msgids if catalog.get(m) is None]


def coded(language: Language, table: Mapping[str, str], code: str) -> str:
    """Return the plain words for `code` (a table of `labels`) in `language`, "" if unlisted.

    The words are the English of `labels` translated through the catalog, so a code the tables
    do not know is shown as itself rather than guessed at.
    """
    english = table.get(code)
    return language.gettext(english) if english else ""


WEB = Path(__file__).parents[1] / "web"
# Where the public pages' words are: their templates, the module that draws their charts, and
# the plain words for the data's codes (marked `N_`, deferred: translated when shown).
MESSAGE_SOURCES = (WEB / "templates" / "public", WEB / "routes" / "public.py",
                   Path(__file__).parent / "labels.py")  # fmt: skip
KEYWORDS = {"_": None, "N_": None}


def public_messages(sources: Iterable[Path] = MESSAGE_SOURCES) -> list[str]:
    """Return every message the public pages mark for translation (`_` or `N_`), in order."""
    from babel.messages.extract import extract

    found: dict[str, None] = {}
    for source in sources:
        files = sorted(source.rglob("*.html")) if source.is_dir() else [source]
        for path in files:
            method = "python" if path.suffix == ".py" else "jinja2"
            with path.open("rb") as f:
                for _line, message, _comments, _context in extract(method, f, keywords=KEYWORDS):
                    if isinstance(message, str):
                        found.setdefault(message)
    return list(found)
