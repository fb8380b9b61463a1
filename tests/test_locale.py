"""Tests for tornado.locale."""

import datetime
import os
import struct
from typing import Any, Dict, List, Tuple

import pytest

import tornado.locale
from tornado.locale import CSVLocale, GettextLocale, Locale

CSV_FR = (
    '"school","\u00e9cole"\n'
    '"%(name)s liked this","%(name)s a aim\u00e9 \u00e7a","singular"\n'
    '"%(name)s liked this","%(name)s ont aim\u00e9 \u00e7a","plural"\n'
)


@pytest.fixture(autouse=True)
def isolated_locale_state() -> Any:
    saved = {
        name: getattr(tornado.locale, name)
        for name in ("_translations", "_supported_locales", "_use_gettext", "_default_locale")
    }
    Locale._cache = {}
    yield
    for name, value in saved.items():
        setattr(tornado.locale, name, value)
    Locale._cache = {}


def write_mo(path: str, messages: List[Tuple[str, str]]) -> None:
    """Write a GNU gettext .mo catalogue (little-endian, no hash table)."""
    messages = sorted(messages)
    ids = [m[0].encode("utf-8") for m in messages]
    strs = [m[1].encode("utf-8") for m in messages]
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + 8 * len(messages)
    data_start = strs_table + 8 * len(messages)
    blob = b""
    id_entries = []
    for s in ids:
        id_entries.append((len(s), data_start + len(blob)))
        blob += s + b"\0"
    str_entries = []
    for s in strs:
        str_entries.append((len(s), data_start + len(blob)))
        blob += s + b"\0"
    out = struct.pack(
        "<7I", 0x950412DE, 0, len(messages), ids_table, strs_table, 0, 0
    )
    for length, offset in id_entries + str_entries:
        out += struct.pack("<2I", length, offset)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(out + blob)


GETTEXT_MESSAGES = [
    ("", "Content-Type: text/plain; charset=utf-8\nPlural-Forms: nplurals=2; plural=(n > 1);\n"),
    ("school", "\u00e9cole"),
    ("law\x04right", "le droit"),
    ("good\x04right", "le bien"),
    ("organization\x04club\x00clubs", "le club\x00les clubs"),
    ("apple\x00apples", "une pomme\x00des pommes"),
]


def test_csv_translations(tmp_path: Any) -> None:
    (tmp_path / "fr_FR.csv").write_text(CSV_FR, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored")
    tornado.locale.load_translations(str(tmp_path))
    assert set(tornado.locale.get_supported_locales()) == {"fr_FR", "en_US"}
    locale = tornado.locale.get("fr_FR")
    assert isinstance(locale, CSVLocale)
    assert locale.translate("school") == "\u00e9cole"
    assert locale.translate("unknown") == "unknown"
    assert locale.translate("%(name)s liked this", "%(name)s liked this", 1) == (
        "%(name)s a aim\u00e9 \u00e7a"
    )
    assert locale.translate("%(name)s liked this", "%(name)s liked this", 2) == (
        "%(name)s ont aim\u00e9 \u00e7a"
    )
    # No contexts in CSV files: the message is translated without one.
    assert locale.pgettext("ctx", "school") == "\u00e9cole"
    assert tornado.locale.get("fr_FR") is locale


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_csv_encodings(tmp_path: Any, encoding: str) -> None:
    (tmp_path / "fr_FR.csv").write_bytes(CSV_FR.encode(encoding))
    tornado.locale.load_translations(str(tmp_path))
    assert tornado.locale.get("fr_FR").translate("school") == "\u00e9cole"


def test_csv_explicit_encoding(tmp_path: Any) -> None:
    (tmp_path / "fr_FR.csv").write_bytes('"school","\u00e9cole"'.encode("latin1"))
    tornado.locale.load_translations(str(tmp_path), encoding="latin1")
    assert tornado.locale.get("fr_FR").translate("school") == "\u00e9cole"


def test_csv_bad_names_are_logged(tmp_path: Any, caplog: Any) -> None:
    (tmp_path / "bad-name.csv").write_text('"a","b"')
    (tmp_path / "de_DE.csv").write_text('"a","b","sometimes"\n"c","d"\n')
    tornado.locale.load_translations(str(tmp_path))
    messages = [r.getMessage() for r in caplog.records]
    assert any("Unrecognized locale 'bad-name'" in m for m in messages)
    assert any("Unrecognized plural indicator 'sometimes'" in m for m in messages)
    assert tornado.locale.get("de_DE").translate("c") == "d"


def test_gettext_translations(tmp_path: Any) -> None:
    write_mo(str(tmp_path / "fr_FR" / "LC_MESSAGES" / "dom.mo"), GETTEXT_MESSAGES)
    (tmp_path / ".hidden").mkdir()
    tornado.locale.load_gettext_translations(str(tmp_path), "dom")
    locale = tornado.locale.get("fr_FR")
    assert isinstance(locale, GettextLocale)
    assert locale.translate("school") == "\u00e9cole"
    assert locale.translate("apple", "apples", 1) == "une pomme"
    assert locale.translate("apple", "apples", 3) == "des pommes"
    assert locale.pgettext("law", "right") == "le droit"
    assert locale.pgettext("good", "right") == "le bien"
    assert locale.pgettext("nowhere", "right") == "right"
    assert locale.pgettext("organization", "club", "clubs", 1) == "le club"
    assert locale.pgettext("organization", "club", "clubs", 2) == "les clubs"
    assert locale.pgettext("nowhere", "apple", "apples", 2) == "des pommes"


def test_gettext_missing_catalogue_is_logged(tmp_path: Any, caplog: Any) -> None:
    (tmp_path / "de_DE").mkdir()
    tornado.locale.load_gettext_translations(str(tmp_path), "dom")
    assert any("Cannot load translation for 'de_DE'" in r.getMessage() for r in caplog.records)
    assert set(tornado.locale.get_supported_locales()) == {"en_US"}


def test_get_closest(tmp_path: Any) -> None:
    (tmp_path / "fr_FR.csv").write_text(CSV_FR, encoding="utf-8")
    (tmp_path / "es.csv").write_text('"a","b"')
    tornado.locale.load_translations(str(tmp_path))
    assert tornado.locale.get("fr-fr").code == "fr_FR"
    assert tornado.locale.get("de_DE", "es_MX").code == "es"
    assert tornado.locale.get("a_b_c", "", "xx").code == "en_US"
    assert tornado.locale.get().code == "en_US"


def test_set_default_locale() -> None:
    tornado.locale.set_default_locale("pt_BR")
    assert "pt_BR" in tornado.locale.get_supported_locales()
    locale = tornado.locale.get("xx")
    assert locale.code == "pt_BR"
    assert locale.name == "Portugu\u00eas (Brasil)"


def test_locale_properties() -> None:
    assert CSVLocale("fa_IR", {}).rtl and CSVLocale("he_IL", {}).rtl
    assert not CSVLocale("en_US", {}).rtl
    assert CSVLocale("xx_YY", {}).name == "Unknown"
    assert tornado.locale.LOCALE_NAMES["es_LA"]["name"] == "Espa\u00f1ol"
    assert tornado.locale.get("en_US").name == "English (US)"


def test_list_and_numbers() -> None:
    en = tornado.locale.get("en_US")
    assert en.list([]) == ""
    assert en.list(["A"]) == "A"
    assert en.list(["A", "B"]) == "A and B"
    assert en.list(["A", "B", "C"]) == "A, B and C"
    assert en.friendly_number(1000000) == "1,000,000"
    assert en.friendly_number(999) == "999"
    tornado.locale.set_default_locale("de_DE")
    assert tornado.locale.get("de_DE").friendly_number(1000000) == "1000000"


def test_format_day() -> None:
    en = tornado.locale.get("en_US")
    date = datetime.datetime(2013, 4, 28, 18, 35)
    assert en.format_day(date) == "Sunday, April 28"
    assert en.format_day(date, dow=False) == "April 28"
    assert en.format_day(date, gmt_offset=24 * 60) == "Saturday, April 27"


def test_format_date_absolute() -> None:
    en = tornado.locale.get("en_US")
    date = datetime.datetime(2013, 4, 28, 18, 35)
    assert en.format_date(date, full_format=True) == "April 28, 2013 at 6:35 pm"
    assert en.format_date(date, full_format=True, shorter=True) == "April 28, 2013"
    assert en.format_date(date, gmt_offset=60, full_format=True) == "April 28, 2013 at 5:35 pm"
    # A POSIX timestamp is UTC.
    ts = datetime.datetime(2013, 4, 28, 6, 5, tzinfo=datetime.timezone.utc).timestamp()
    assert en.format_date(ts, full_format=True) == "April 28, 2013 at 6:05 am"
    tornado.locale.set_default_locale("de_DE")
    de = tornado.locale.get("de_DE")
    assert de.format_date(date, full_format=True) == "April 28, 2013 at 18:35"


@pytest.mark.parametrize("aware", [True, False])
def test_format_date_relative(aware: bool) -> None:
    en = tornado.locale.get("en_US")
    now = datetime.datetime.now(datetime.timezone.utc)
    if not aware:
        now = now.replace(tzinfo=None)

    def fmt(delta: datetime.timedelta, **kwargs: Any) -> str:
        return en.format_date(now - delta, **kwargs)

    td = datetime.timedelta
    assert fmt(td(seconds=1)) == "1 second ago"
    assert fmt(td(seconds=2)) == "2 seconds ago"
    assert fmt(td(minutes=2)) == "2 minutes ago"
    assert fmt(td(hours=2)) == "2 hours ago"
    assert fmt(td(days=1), shorter=True) == "yesterday"
    date = now - td(days=2)
    assert fmt(td(days=2), shorter=True) == en._weekdays[date.weekday()]
    date = now - td(days=300)
    assert fmt(td(days=300), shorter=True) == "%s %d" % (en._months[date.month - 1], date.day)
    date = now - td(days=500)
    assert fmt(td(days=500), shorter=True) == "%s %d, %d" % (
        en._months[date.month - 1],
        date.day,
        date.year,
    )
    # Slightly in the future (clock skew) counts as now...
    assert fmt(td(seconds=-5)) == "0 seconds ago"
    # ...but further in the future gets the full date.
    date = now + td(days=1, seconds=30)
    assert fmt(-td(days=1, seconds=30), shorter=True) == "%s %d, %d" % (
        en._months[date.month - 1],
        date.day,
        date.year,
    )


def test_base_locale_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Locale("en_US")


def test_translations_dict_shape(tmp_path: Any) -> None:
    (tmp_path / "fr_FR.csv").write_text(CSV_FR, encoding="utf-8")
    tornado.locale.load_translations(str(tmp_path))
    translations: Dict[str, Dict[str, str]] = tornado.locale.get("fr_FR").translations  # type: ignore[attr-defined]
    assert set(translations) == {"unknown", "singular", "plural"}
