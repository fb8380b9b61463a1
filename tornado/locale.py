"""Translated messages and locale-aware dates, numbers and lists.

An application loads its translations once, when it starts: CSV tables
with `load_translations`, or compiled gettext catalogues with
`load_gettext_translations`.  A `Locale` then translates for one language::

    tornado.locale.load_translations("translations")
    spanish = tornado.locale.get("es_LA")
    print(spanish.translate("Sign out"))

`get` accepts several codes, best first (as from an ``Accept-Language``
header), and settles on the first one supported, exactly or by its
language alone; failing that, on the default locale (``en_US`` unless
`set_default_locale` says otherwise).

Messages whose wording depends on a number are translated with both
forms and the number::

    text = spanish.translate(
        "%(list)s is online", "%(list)s are online", len(people))
    print(text % {"list": spanish.list(people)})

In a `tornado.web.RequestHandler`, ``self.locale`` is the current user's
locale.

Uses `tornado.log`.
"""


from __future__ import annotations

import codecs
import csv
import datetime
import gettext
import os
import re
from typing import Any, Dict, Iterable, Iterator, Optional, Union

from tornado.log import gen_log

# Loaded state, replaced wholesale by each load_* call.  _translations maps a
# locale code to a CSV table ({"plural"|"singular"|"unknown": {en: text}})
# or to a gettext catalogue, as _use_gettext says.
_default_locale = "en_US"
_translations: Dict[str, Any] = {}
_supported_locales = frozenset([_default_locale])
_use_gettext = False

# gettext keys a message that has a context as context + "\x04" + message.
CONTEXT_SEPARATOR = "\x04"

_Date = Union[int, float, datetime.datetime]


def _recompute_supported() -> None:
    global _supported_locales
    _supported_locales = frozenset(_translations) | {_default_locale}


def get(*locale_codes: str) -> "Locale":
    """The best supported `Locale` for ``locale_codes`` (best first).

    Each code is tried as given (``pt_BR``, ``pt-br``, ``pt``) and then by
    its language part; the default locale is the last resort.
    """
    return Locale.get_closest(*locale_codes)


def set_default_locale(code: str) -> None:
    """Make ``code`` the fallback locale (``en_US`` at first).

    The default locale counts as supported even without translations; its
    messages are then shown as written.
    """
    global _default_locale
    _default_locale = code
    _recompute_supported()


# A CSV file is named after its locale: a lower-case language, optionally an
# underscore and an upper-case region.
_CSV_LOCALE_NAME = re.compile(r"[a-z]+(_[A-Z]+)?$")
_PLURAL_KINDS = ("plural", "singular", "unknown")


def _sniff_encoding(path: str) -> str:
    """UTF-16 if the file opens with a UTF-16 byte order mark, else UTF-8
    (where utf-8-sig drops a UTF-8 BOM if there is one)."""
    with open(path, "rb") as raw:
        start = raw.read(2)
    if start in (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE):
        return "utf-16"
    return "utf-8-sig"


def _read_csv_table(path: str, encoding: str) -> Dict[str, Dict[str, str]]:
    """The translation table of one CSV file, keyed by plural kind."""
    table: Dict[str, Dict[str, str]] = {}
    with open(path, encoding=encoding) as stream:
        for lineno, fields in enumerate(csv.reader(stream), 1):
            if len(fields) < 2:
                continue
            cells = [cell.strip() for cell in fields]
            kind = cells[2] if len(cells) > 2 and cells[2] else "unknown"
            if kind not in _PLURAL_KINDS:
                gen_log.error("Unrecognized plural indicator %r in %s line %d",
                              kind, os.path.basename(path), lineno)
                continue
            table.setdefault(kind, {})[cells[0]] = cells[1]
    return table


def load_translations(directory: str, encoding: Optional[str] = None) -> None:
    """Use the CSV translation tables found in ``directory``.

    Every ``<locale>.csv`` file there (``es_GT.csv``, ``fr.csv``) is read;
    other files are ignored, and files whose name is not a locale code are
    reported on the ``tornado.general`` logger and skipped.  A row holds the
    English message, its translation and, for messages with plural forms
    (see `Locale.translate`), ``singular`` or ``plural``::

        "Sign out","Salir"
        "%(count)d file","%(count)d archivo","singular"
        "%(count)d file","%(count)d archivos","plural"

    A row with another word in its third column is reported and skipped.
    Files are decoded with ``encoding`` if given; otherwise as UTF-16 when
    they start with a UTF-16 byte order mark, as UTF-8 when not.

    .. versionchanged:: 4.3
       The ``encoding`` argument; byte order mark detection.
    """
    global _translations
    _translations = {}
    for file_name in sorted(os.listdir(directory)):
        if not file_name.endswith(".csv"):
            continue
        stem = file_name.split(".", 1)[0]
        path = os.path.join(directory, file_name)
        if not _CSV_LOCALE_NAME.match(stem):
            gen_log.error("Unrecognized locale %r (path: %s)", stem, path)
            continue
        _translations[stem] = _read_csv_table(path, encoding or _sniff_encoding(path))
    _recompute_supported()
    gen_log.debug("Supported locales: %s", sorted(_supported_locales))


def load_gettext_translations(directory: str, domain: str) -> None:
    """Use the compiled gettext catalogues of ``domain`` under ``directory``.

    The layout is gettext's own, one catalogue per language:
    ``<directory>/<lang>/LC_MESSAGES/<domain>.mo``.  Typical steps to make
    them: extract messages with ``xgettext --language=Python
    --keyword=_:1,2`` (add ``--keyword=pgettext:1c,2`` and
    ``--keyword=pgettext:1c,2,3`` for contexts), translate the ``.po``
    file (``msgmerge`` carries old work over), then compile it with
    ``msgfmt -o <directory>/<lang>/LC_MESSAGES/<domain>.mo``.

    A language whose catalogue is missing or unreadable is reported on
    the ``tornado.general`` logger and skipped.
    """
    global _translations, _use_gettext
    _translations = {}
    for lang in sorted(os.listdir(directory)):
        if lang.startswith(".") or os.path.isfile(os.path.join(directory, lang)):
            continue  # version control folders, stray files
        try:
            catalogue_path = os.path.join(directory, lang, "LC_MESSAGES", domain + ".mo")
            os.stat(catalogue_path)
            _translations[lang] = gettext.translation(domain, directory, languages=[lang])
        except Exception as exc:
            gen_log.error("Cannot load translation for '%s': %s", lang, str(exc))
    _recompute_supported()
    _use_gettext = True
    gen_log.debug("Supported locales: %s", sorted(_supported_locales))


def get_supported_locales() -> Iterable[str]:
    """Codes with loaded translations, plus the default locale's."""
    return _supported_locales


def _code_variants(code: str) -> Iterator[str]:
    """Spellings of ``code`` to look for: ``ll_RR`` form, then ``ll``."""
    pieces = code.replace("-", "_").split("_")
    if len(pieces) > 2:
        return
    language = pieces[0].lower()
    yield language + "_" + pieces[1].upper() if len(pieces) == 2 else pieces[0]
    yield language


_MONTHS = ("January February March April May June July August September "
           "October November December").split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


class Locale:
    """The messages and formats of one language (and region).

    Obtain instances through `get` or `Locale.get_closest`: they are
    created once per code and then shared.
    """

    _cache: Dict[str, "Locale"] = {}

    @classmethod
    def get_closest(cls, *locale_codes: str) -> "Locale":
        """Like the module's `get`: the first supported match, or the default."""
        for code in locale_codes:
            if not code:
                continue
            for variant in _code_variants(code):
                if variant in _supported_locales:
                    return cls.get(variant)
        return cls.get(_default_locale)

    @classmethod
    def get(cls, code: str) -> "Locale":
        """The shared `Locale` for ``code``, a supported locale code."""
        cached = cls._cache.get(code)
        if cached is not None:
            return cached
        assert code in _supported_locales
        source = _translations.get(code)
        made: Locale
        if source is not None and _use_gettext:
            made = GettextLocale(code, source)
        else:
            made = CSVLocale(code, source or {})
        cls._cache[code] = made
        return made

    def __init__(self, code: str) -> None:
        self.code = code
        self.name = LOCALE_NAMES.get(code, {}).get("name", "Unknown")
        # Persian, Arabic and Hebrew are written right to left.
        self.rtl = code[:2] in ("fa", "ar", "he")
        self._months = [self.translate(month) for month in _MONTHS]
        self._weekdays = [self.translate(day) for day in _WEEKDAYS]

    def translate(self, message: str, plural_message: Optional[str] = None,
                  count: Optional[int] = None) -> str:
        """``message`` in this locale's language.

        For a message with plural forms, pass the plural wording as
        ``plural_message`` and the number it depends on as ``count``; the
        plural form is chosen when ``count`` is not 1.
        """
        raise NotImplementedError()

    def pgettext(self, context: str, message: str, plural_message: Optional[str] = None,
                 count: Optional[int] = None) -> str:
        """`Locale.translate` for a message whose meaning depends on ``context``.

        Contexts need gettext catalogues; CSV tables ignore them.
        """
        raise NotImplementedError()

    def format_date(self, date: _Date, gmt_offset: int = 0, relative: bool = True,
                    shorter: bool = False, full_format: bool = False) -> str:
        """Describe a moment in the past for people to read.

        ``date`` is a `datetime.datetime` (naive ones are UTC) or a POSIX
        timestamp.  Recent moments are described relative to now ("4
        minutes ago", "yesterday at 9:03 am", a weekday); older ones by date,
        with the year once it is almost a year back.  ``relative=False``
        avoids the "ago" and "yesterday" phrasings; ``full_format=True``
        always gives month, day, year and time; ``shorter=True`` leaves the
        time of day out where it can.  ``gmt_offset`` is the reader's
        distance from UTC in minutes, positive west of Greenwich (as
        JavaScript's ``Date.getTimezoneOffset`` reports it).

        Moments in the future get the full format, except those under a
        minute ahead, which are taken as clock skew and shown as now.

        .. versionchanged:: 6.4
           Timezone-aware datetimes are accepted.
        """
        utc = datetime.timezone.utc
        if isinstance(date, (int, float)):
            date = datetime.datetime.fromtimestamp(date, utc)
        elif date.tzinfo is None:
            date = date.replace(tzinfo=utc)
        now = datetime.datetime.now(utc)
        ahead = (date - now).total_seconds()
        if ahead > 0:
            if relative and ahead < 60:
                date = now
            else:
                full_format = True
        shift = datetime.timedelta(minutes=gmt_offset)
        local = date - shift
        age = now - date
        layout: Optional[str] = None
        if not full_format:
            if relative and age.days == 0:
                return self._ago(age.seconds)
            layout = self._recent_layout(age.days, local, now - shift, relative, shorter)
        if layout is None:
            layout = self.translate("%(month_name)s %(day)s, %(year)s" if shorter
                                    else "%(month_name)s %(day)s, %(year)s at %(time)s")
        return layout % {
            "month_name": self._months[local.month - 1],
            "weekday": self._weekdays[local.weekday()],
            "day": str(local.day),
            "year": str(local.year),
            "time": self._clock(local),
        }

    def _ago(self, seconds: int) -> str:
        """"N seconds/minutes/hours ago" for an age under a day."""
        _ = self.translate
        if seconds < 50:
            return _("1 second ago", "%(seconds)d seconds ago", seconds) % {"seconds": seconds}
        if seconds < 50 * 60:
            minutes = round(seconds / 60.0)
            return _("1 minute ago", "%(minutes)d minutes ago", minutes) % {"minutes": minutes}
        hours = round(seconds / 3600.0)
        return _("1 hour ago", "%(hours)d hours ago", hours) % {"hours": hours}

    def _recent_layout(self, days: int, local: datetime.datetime,
                       local_now: datetime.datetime, relative: bool,
                       shorter: bool) -> Optional[str]:
        """The layout for a moment under 334 days old; None beyond that."""
        if days == 0:
            english = "%(time)s"
        elif relative and days == 1 and (local_now - datetime.timedelta(days=1)).day == local.day:
            english = "yesterday" if shorter else "yesterday at %(time)s"
        elif days < 5:
            english = "%(weekday)s" if shorter else "%(weekday)s at %(time)s"
        elif days < 334:
            # Beyond eleven months a date without its year could be taken
            # for the same day this year.
            english = "%(month_name)s %(day)s" if shorter else "%(month_name)s %(day)s at %(time)s"
        else:
            return None
        return self.translate(english)

    def _clock(self, local: datetime.datetime) -> str:
        """Time of day: 12-hour for English and Simplified Chinese, else 24-hour."""
        hour, minute = local.hour, local.minute
        if self.code == "zh_CN":
            # "上午" before noon, "下午" after it.
            half = "\u4e0b\u5348" if hour >= 12 else "\u4e0a\u5348"
            return "%s%d:%02d" % (half, (hour - 1) % 12 + 1, minute)
        if self.code in ("en", "en_US"):
            suffix = "pm" if hour >= 12 else "am"
            return "%d:%02d %s" % ((hour - 1) % 12 + 1, minute, suffix)
        return "%d:%02d" % (hour, minute)

    def format_day(self, date: datetime.datetime, gmt_offset: int = 0,
                   dow: bool = True) -> str:
        """The calendar day of ``date``: "Monday, January 22", or without the
        weekday ("January 22") when ``dow`` is false.  ``gmt_offset`` means
        what it does for `format_date`."""
        local = date - datetime.timedelta(minutes=gmt_offset)
        layout = "%(weekday)s, %(month_name)s %(day)s" if dow else "%(month_name)s %(day)s"
        return self.translate(layout) % {
            "weekday": self._weekdays[local.weekday()],
            "month_name": self._months[local.month - 1],
            "day": str(local.day),
        }

    def list(self, parts: Any) -> str:
        """Join items the way a sentence lists them: "A, B and C"."""
        count = len(parts)
        if count < 2:
            return parts[0] if count else ""
        # Persian separates every item with "و" ("and"), not with commas.
        glue = " \u0648 " if self.code.startswith("fa") else ", "
        head = glue.join(parts[: count - 1])
        return self.translate("%(commas)s and %(last)s") % {"commas": head, "last": parts[-1]}

    def friendly_number(self, value: int) -> str:
        """``value`` with thousands separators ("12,345") in English; other
        locales get plain digits."""
        if self.code in ("en", "en_US"):
            return format(value, ",")
        return str(value)


class CSVLocale(Locale):
    """A `Locale` backed by a table from `load_translations`."""

    def __init__(self, code: str, translations: Dict[str, Dict[str, str]]) -> None:
        # Set first: Locale.__init__ already translates month names.
        self.translations = translations
        super().__init__(code)

    def translate(self, message: str, plural_message: Optional[str] = None,
                  count: Optional[int] = None) -> str:
        kind = "unknown"
        if plural_message is not None:
            assert count is not None
            kind = "singular" if count == 1 else "plural"
            if kind == "plural":
                message = plural_message
        return self.translations.get(kind, {}).get(message, message)

    def pgettext(self, context: str, message: str, plural_message: Optional[str] = None,
                 count: Optional[int] = None) -> str:
        # A CSV table has no contexts; say so only when there is a table to
        # miss them in.
        if self.translations:
            gen_log.warning("pgettext is not supported by CSVLocale")
        return self.translate(message, plural_message, count)


class GettextLocale(Locale):
    """A `Locale` backed by a gettext catalogue from
    `load_gettext_translations`."""

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        # Bound before Locale.__init__, which translates through them.
        self.gettext = translations.gettext
        self.ngettext = translations.ngettext
        super().__init__(code)

    def translate(self, message: str, plural_message: Optional[str] = None,
                  count: Optional[int] = None) -> str:
        if plural_message is None:
            return self.gettext(message)
        assert count is not None
        return self.ngettext(message, plural_message, count)

    def pgettext(self, context: str, message: str, plural_message: Optional[str] = None,
                 count: Optional[int] = None) -> str:
        """`Locale.translate` within ``context``, as GNU gettext's ``pgettext``.

        The same English word can need different translations::

            _.pgettext("river", "bank")
            _.pgettext("money", "bank")
            _.pgettext("card game", "suit", "suits", len(suits))

        ``xgettext --keyword=pgettext:1c,2`` (``1c,2,3`` with plurals)
        extracts such calls.  A message not translated in that context is
        returned untranslated.

        .. versionadded:: 4.2
        """
        prefix = context + CONTEXT_SEPARATOR
        if plural_message is None:
            found = self.gettext(prefix + message)
            return message if CONTEXT_SEPARATOR in found else found
        assert count is not None
        found = self.ngettext(prefix + message, prefix + plural_message, count)
        if CONTEXT_SEPARATOR not in found:
            return found
        # gettext gave the lookup key back: no translation in this context.
        return self.ngettext(message, plural_message, count)


# The locales with well-known names: one per line, "code English | native".
_LOCALE_TABLE = """
af_ZA Afrikaans | Afrikaans
am_ET Amharic | \u12a0\u121b\u122d\u129b
ar_AR Arabic | \u0627\u0644\u0639\u0631\u0628\u064a\u0629
bg_BG Bulgarian | \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438
bn_IN Bengali | \u09ac\u09be\u0982\u09b2\u09be
bs_BA Bosnian | Bosanski
ca_ES Catalan | Catal\xe0
cs_CZ Czech | \u010ce\u0161tina
cy_GB Welsh | Cymraeg
da_DK Danish | Dansk
de_DE German | Deutsch
el_GR Greek | \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac
en_GB English (UK) | English (UK)
en_US English (US) | English (US)
es_ES Spanish (Spain) | Espa\xf1ol (Espa\xf1a)
es_LA Spanish | Espa\xf1ol
et_EE Estonian | Eesti
eu_ES Basque | Euskara
fa_IR Persian | \u0641\u0627\u0631\u0633\u06cc
fi_FI Finnish | Suomi
fr_CA French (Canada) | Fran\xe7ais (Canada)
fr_FR French | Fran\xe7ais
ga_IE Irish | Gaeilge
gl_ES Galician | Galego
he_IL Hebrew | \u05e2\u05d1\u05e8\u05d9\u05ea
hi_IN Hindi | \u0939\u093f\u0928\u094d\u0926\u0940
hr_HR Croatian | Hrvatski
hu_HU Hungarian | Magyar
id_ID Indonesian | Bahasa Indonesia
is_IS Icelandic | \xcdslenska
it_IT Italian | Italiano
ja_JP Japanese | \u65e5\u672c\u8a9e
ko_KR Korean | \ud55c\uad6d\uc5b4
lt_LT Lithuanian | Lietuvi\u0173
lv_LV Latvian | Latvie\u0161u
mk_MK Macedonian | \u041c\u0430\u043a\u0435\u0434\u043e\u043d\u0441\u043a\u0438
ml_IN Malayalam | \u0d2e\u0d32\u0d2f\u0d3e\u0d33\u0d02
ms_MY Malay | Bahasa Melayu
nb_NO Norwegian (bokmal) | Norsk (bokm\xe5l)
nl_NL Dutch | Nederlands
nn_NO Norwegian (nynorsk) | Norsk (nynorsk)
pa_IN Punjabi | \u0a2a\u0a70\u0a1c\u0a3e\u0a2c\u0a40
pl_PL Polish | Polski
pt_BR Portuguese (Brazil) | Portugu\xeas (Brasil)
pt_PT Portuguese (Portugal) | Portugu\xeas (Portugal)
ro_RO Romanian | Rom\xe2n\u0103
ru_RU Russian | \u0420\u0443\u0441\u0441\u043a\u0438\u0439
sk_SK Slovak | Sloven\u010dina
sl_SI Slovenian | Sloven\u0161\u010dina
sq_AL Albanian | Shqip
sr_RS Serbian | \u0421\u0440\u043f\u0441\u043a\u0438
sv_SE Swedish | Svenska
sw_KE Swahili | Kiswahili
ta_IN Tamil | \u0ba4\u0bae\u0bbf\u0bb4\u0bcd
te_IN Telugu | \u0c24\u0c46\u0c32\u0c41\u0c17\u0c41
th_TH Thai | \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22
tl_PH Filipino | Filipino
tr_TR Turkish | T\xfcrk\xe7e
uk_UA Ukrainian | \u0423\u043a\u0440\u0430\u0457\u043d\u0441\u044c\u043a\u0430
vi_VN Vietnamese | Ti\u1ebfng Vi\u1ec7t
zh_CN Chinese (Simplified) | \u4e2d\u6587(\u7b80\u4f53)
zh_TW Chinese (Traditional) | \u4e2d\u6587(\u7e41\u9ad4)
"""


def _parse_locale_table(text: str) -> Dict[str, Dict[str, str]]:
    names: Dict[str, Dict[str, str]] = {}
    for line in text.strip().splitlines():
        code, _, rest = line.partition(" ")
        english, _, native = rest.partition(" | ")
        names[code] = {"name_en": english, "name": native}
    return names


LOCALE_NAMES: Dict[str, Dict[str, str]] = _parse_locale_table(_LOCALE_TABLE)
