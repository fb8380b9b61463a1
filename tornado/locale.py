"""Translation and locale-aware formatting of dates and numbers.

Load translations once at startup, from CSV files (`load_translations`) or
gettext ``.mo`` files (`load_gettext_translations`), then get a `Locale`
for the user's language and translate strings with it::

    tornado.locale.load_translations("translations")
    user_locale = tornado.locale.get("es_LA")
    print(user_locale.translate("Sign out"))

`tornado.locale.get` picks the closest supported locale among those given
(most preferred first), falling back to the default locale (``en_US``,
changed with `set_default_locale`).

Strings with plural forms take the plural form and a count::

    people = [...]
    message = user_locale.translate(
        "%(list)s is online", "%(list)s are online", len(people))
    print(message % {"list": user_locale.list(people)})

`tornado.web.RequestHandler.locale` gives the locale of the current user.

This module builds on `tornado.escape` and `tornado.log`.
"""


from __future__ import annotations

import codecs
import csv
import datetime
import gettext
import os
import re
from typing import Any, Dict, Iterable, Optional, Union

from tornado import escape
from tornado.log import gen_log

_default_locale = "en_US"
_translations: Dict[str, Any] = {}
_supported_locales = frozenset([_default_locale])
_use_gettext = False

# gettext stores a message with a context as "context" + this + "message".
CONTEXT_SEPARATOR = "\x04"


def get(*locale_codes: str) -> "Locale":
    """Return the closest supported `Locale` for the given locale codes.

    Codes are tried in order (most preferred first), each as given
    (``en_US``, ``en-us``) and then as its bare language (``en``); if none
    is supported the default locale is returned.
    """
    return Locale.get_closest(*locale_codes)


def set_default_locale(code: str) -> None:
    """Set the locale used when no requested locale is supported.

    The default locale is always supported, translated or not.
    """
    global _default_locale
    global _supported_locales
    _default_locale = code
    _supported_locales = frozenset(list(_translations.keys()) + [_default_locale])


def _detect_csv_encoding(path: str) -> str:
    # UTF-16 files carry a byte order mark; anything else is read as UTF-8,
    # with or without one.
    with open(path, "rb") as f:
        head = f.read(len(codecs.BOM_UTF16_LE))
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    return "utf-8-sig"


def load_translations(directory: str, encoding: Optional[str] = None) -> None:
    """Load translations from the CSV files in ``directory``.

    Each file is named for its locale, such as ``es_GT.csv``, and has two
    or three columns: the English string, its translation, and optionally
    ``plural`` or ``singular`` to say which form of a pluralized message
    (see `Locale.translate`) it translates.  For example::

        "I love you","Te amo"
        "%(name)s liked this","A %(name)s les gustó esto","plural"
        "%(name)s liked this","A %(name)s le gustó esto","singular"

    Without an ``encoding``, files are read as UTF-8 unless they start with
    a UTF-16 byte order mark.  Files with unknown locale names, and rows
    with unknown plural markers, are logged and skipped.

    .. versionchanged:: 4.3
       Added ``encoding``; UTF-16 and BOM detection.
    """
    global _translations
    global _supported_locales
    _translations = {}
    for path in sorted(os.listdir(directory)):
        if not path.endswith(".csv"):
            continue
        locale, _ = path.split(".", 1)
        full_path = os.path.join(directory, path)
        if not re.match("[a-z]+(_[A-Z]+)?$", locale):
            gen_log.error("Unrecognized locale %r (path: %s)", locale, full_path)
            continue
        file_encoding = encoding or _detect_csv_encoding(full_path)
        translations: Dict[str, Dict[str, str]] = {}
        with open(full_path, encoding=file_encoding) as f:
            for i, row in enumerate(csv.reader(f)):
                if not row or len(row) < 2:
                    continue
                row = [escape.to_unicode(c).strip() for c in row]
                english, translation = row[:2]
                plural = (row[2] if len(row) > 2 else "") or "unknown"
                if plural not in ("plural", "singular", "unknown"):
                    gen_log.error(
                        "Unrecognized plural indicator %r in %s line %d",
                        plural,
                        path,
                        i + 1,
                    )
                    continue
                translations.setdefault(plural, {})[english] = translation
        _translations[locale] = translations
    _supported_locales = frozenset(list(_translations.keys()) + [_default_locale])
    gen_log.debug("Supported locales: %s", sorted(_supported_locales))


def load_gettext_translations(directory: str, domain: str) -> None:
    """Load gettext translations from ``directory``.

    The layout is the standard one,
    ``{directory}/{lang}/LC_MESSAGES/{domain}.mo``.  To make the files::

        xgettext --language=Python --keyword=_:1,2 -d mydomain file1.py ...
        msgmerge old.po mydomain.po > new.po     # to update a translation
        msgfmt mydomain.po -o {directory}/pt_BR/LC_MESSAGES/mydomain.mo

    Languages whose file cannot be loaded are logged and skipped.
    """
    global _translations
    global _supported_locales
    global _use_gettext
    _translations = {}
    for lang in sorted(os.listdir(directory)):
        # Skip hidden entries (.svn and the like) and plain files.
        if lang.startswith(".") or os.path.isfile(os.path.join(directory, lang)):
            continue
        try:
            os.stat(os.path.join(directory, lang, "LC_MESSAGES", domain + ".mo"))
            _translations[lang] = gettext.translation(domain, directory, languages=[lang])
        except Exception as e:
            gen_log.error("Cannot load translation for '%s': %s", lang, str(e))
            continue
    _supported_locales = frozenset(list(_translations.keys()) + [_default_locale])
    _use_gettext = True
    gen_log.debug("Supported locales: %s", sorted(_supported_locales))


def get_supported_locales() -> Iterable[str]:
    """The locale codes that have translations, plus the default locale."""
    return _supported_locales


class Locale:
    """A locale: translations and formatting for one language.

    Get instances with `get` or `Locale.get_closest`, which cache them,
    rather than by constructing them.
    """

    _cache: Dict[str, "Locale"] = {}

    @classmethod
    def get_closest(cls, *locale_codes: str) -> "Locale":
        """Return the closest supported locale to the given codes (see `get`)."""
        for code in locale_codes:
            if not code:
                continue
            code = code.replace("-", "_")
            parts = code.split("_")
            if len(parts) > 2:
                continue
            if len(parts) == 2:
                code = parts[0].lower() + "_" + parts[1].upper()
            if code in _supported_locales:
                return cls.get(code)
            if parts[0].lower() in _supported_locales:
                return cls.get(parts[0].lower())
        return cls.get(_default_locale)

    @classmethod
    def get(cls, code: str) -> "Locale":
        """Return the locale for ``code``, which must be supported."""
        locale = cls._cache.get(code)
        if locale is None:
            assert code in _supported_locales
            translations = _translations.get(code, None)
            if translations is None:
                locale = CSVLocale(code, {})
            elif _use_gettext:
                locale = GettextLocale(code, translations)
            else:
                locale = CSVLocale(code, translations)
            cls._cache[code] = locale
        return locale

    def __init__(self, code: str) -> None:
        self.code = code
        self.name = LOCALE_NAMES.get(code, {}).get("name", "Unknown")
        self.rtl = code.startswith(("fa", "ar", "he"))

        # Month and weekday names, translated once.
        _ = self.translate
        self._months = [
            _("January"),
            _("February"),
            _("March"),
            _("April"),
            _("May"),
            _("June"),
            _("July"),
            _("August"),
            _("September"),
            _("October"),
            _("November"),
            _("December"),
        ]
        self._weekdays = [
            _("Monday"),
            _("Tuesday"),
            _("Wednesday"),
            _("Thursday"),
            _("Friday"),
            _("Saturday"),
            _("Sunday"),
        ]

    def translate(
        self,
        message: str,
        plural_message: Optional[str] = None,
        count: Optional[int] = None,
    ) -> str:
        """Return the translation of ``message``.

        With ``plural_message`` and ``count``, the plural form is translated
        when ``count`` is not 1.
        """
        raise NotImplementedError()

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: Optional[str] = None,
        count: Optional[int] = None,
    ) -> str:
        """Like `translate`, for ``message`` in a given ``context``.

        Only gettext translations support contexts.
        """
        raise NotImplementedError()

    def format_date(
        self,
        date: Union[int, float, datetime.datetime],
        gmt_offset: int = 0,
        relative: bool = True,
        shorter: bool = False,
        full_format: bool = False,
    ) -> str:
        """Format a date (a datetime or a POSIX timestamp) for display.

        By default the result is relative to now ("2 minutes ago",
        "yesterday at 5:32 pm"); ``relative=False`` gives an absolute date,
        and ``full_format=True`` always the full date ("July 10, 1980 at
        9:15 am").  ``shorter`` leaves out the time of day where possible.
        ``gmt_offset`` is the user's offset from UTC in minutes (positive
        west of Greenwich, as JavaScript's ``getTimezoneOffset``).

        Meant for past dates; future dates (beyond a minute of clock skew)
        use the full format.  Naive datetimes are taken to be in UTC.

        .. versionchanged:: 6.4
           Aware datetimes are supported.
        """
        if isinstance(date, (int, float)):
            date = datetime.datetime.fromtimestamp(date, datetime.timezone.utc)
        if date.tzinfo is None:
            date = date.replace(tzinfo=datetime.timezone.utc)
        now = datetime.datetime.now(datetime.timezone.utc)
        if date > now:
            if relative and (date - now).total_seconds() < 60:
                # Slight clock skew: treat a moment from now as now.
                date = now
            else:
                full_format = True
        offset = datetime.timedelta(minutes=gmt_offset)
        local_date = date - offset
        local_now = now - offset
        local_yesterday = local_now - datetime.timedelta(hours=24)
        difference = now - date
        seconds = difference.seconds
        days = difference.days

        _ = self.translate
        format = None
        if not full_format:
            if relative and days == 0:
                if seconds < 50:
                    return _("1 second ago", "%(seconds)d seconds ago", seconds) % {
                        "seconds": seconds
                    }
                if seconds < 50 * 60:
                    minutes = round(seconds / 60.0)
                    return _("1 minute ago", "%(minutes)d minutes ago", minutes) % {
                        "minutes": minutes
                    }
                hours = round(seconds / (60.0 * 60))
                return _("1 hour ago", "%(hours)d hours ago", hours) % {"hours": hours}

            if days == 0:
                format = _("%(time)s")
            elif days == 1 and local_date.day == local_yesterday.day and relative:
                format = _("yesterday") if shorter else _("yesterday at %(time)s")
            elif days < 5:
                format = _("%(weekday)s") if shorter else _("%(weekday)s at %(time)s")
            elif days < 334:
                # Under eleven months: "the same month last year" would be
                # ambiguous without a year.
                format = (
                    _("%(month_name)s %(day)s")
                    if shorter
                    else _("%(month_name)s %(day)s at %(time)s")
                )
        if format is None:
            format = (
                _("%(month_name)s %(day)s, %(year)s")
                if shorter
                else _("%(month_name)s %(day)s, %(year)s at %(time)s")
            )

        return format % {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
            "year": str(local_date.year),
            "time": self._format_time(local_date),
        }

    def _format_time(self, local_date: datetime.datetime) -> str:
        hour, minute = local_date.hour, local_date.minute
        if self.code in ("en", "en_US"):
            return "%d:%02d %s" % (hour % 12 or 12, minute, ("am", "pm")[hour >= 12])
        if self.code == "zh_CN":
            # 上午 (morning) / 下午 (afternoon) before a 12-hour time.
            return "%s%d:%02d" % (("\u4e0a\u5348", "\u4e0b\u5348")[hour >= 12], hour % 12 or 12, minute)
        return "%d:%02d" % (hour, minute)

    def format_day(
        self, date: datetime.datetime, gmt_offset: int = 0, dow: bool = True
    ) -> str:
        """Format a date as a day: "Monday, January 22" (or "January 22" if
        ``dow`` is false).  ``gmt_offset`` is as in `format_date`."""
        local_date = date - datetime.timedelta(minutes=gmt_offset)
        _ = self.translate
        values = {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
        }
        if dow:
            return _("%(weekday)s, %(month_name)s %(day)s") % values
        return _("%(month_name)s %(day)s") % values

    def list(self, parts: Any) -> str:
        """Join a list as a sentence would: "A, B and C"."""
        _ = self.translate
        if len(parts) == 0:
            return ""
        if len(parts) == 1:
            return parts[0]
        # Persian joins with "و" (and) rather than commas.
        comma = " \u0648 " if self.code.startswith("fa") else ", "
        return _("%(commas)s and %(last)s") % {
            "commas": comma.join(parts[:-1]),
            "last": parts[len(parts) - 1],
        }

    def friendly_number(self, value: int) -> str:
        """Format a number with thousands separators ("1,000,000") in
        English locales; other locales get the plain number."""
        if self.code not in ("en", "en_US"):
            return str(value)
        return "{:,}".format(value)


class CSVLocale(Locale):
    """A locale whose translations come from `load_translations` CSV files."""

    def __init__(self, code: str, translations: Dict[str, Dict[str, str]]) -> None:
        self.translations = translations
        super().__init__(code)

    def translate(
        self,
        message: str,
        plural_message: Optional[str] = None,
        count: Optional[int] = None,
    ) -> str:
        if plural_message is not None:
            assert count is not None
            if count != 1:
                message = plural_message
                message_dict = self.translations.get("plural", {})
            else:
                message_dict = self.translations.get("singular", {})
        else:
            message_dict = self.translations.get("unknown", {})
        return message_dict.get(message, message)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: Optional[str] = None,
        count: Optional[int] = None,
    ) -> str:
        if self.translations:
            gen_log.warning("pgettext is not supported by CSVLocale")
        return self.translate(message, plural_message, count)


class GettextLocale(Locale):
    """A locale whose translations come from gettext ``.mo`` files."""

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        self.ngettext = translations.ngettext
        self.gettext = translations.gettext
        # Locale.__init__ translates month names: the methods above must
        # exist first.
        super().__init__(code)

    def translate(
        self,
        message: str,
        plural_message: Optional[str] = None,
        count: Optional[int] = None,
    ) -> str:
        if plural_message is not None:
            assert count is not None
            return self.ngettext(message, plural_message, count)
        return self.gettext(message)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: Optional[str] = None,
        count: Optional[int] = None,
    ) -> str:
        """Translate ``message`` in ``context``, as gettext's ``pgettext``.

        For example::

            _.pgettext("law", "right")
            _.pgettext("good", "right")
            _.pgettext("organization", "club", "clubs", len(clubs))

        Extract such messages with ``xgettext --keyword=pgettext:1c,2`` (and
        ``--keyword=pgettext:1c,2,3`` for plurals).  Without a translation
        in the context, the untranslated message is returned.

        .. versionadded:: 4.2
        """
        if plural_message is not None:
            assert count is not None
            result = self.ngettext(
                context + CONTEXT_SEPARATOR + message,
                context + CONTEXT_SEPARATOR + plural_message,
                count,
            )
            if CONTEXT_SEPARATOR in result:
                # Untranslated: gettext handed back the context key.
                result = self.ngettext(message, plural_message, count)
            return result
        result = self.gettext(context + CONTEXT_SEPARATOR + message)
        if CONTEXT_SEPARATOR in result:
            result = message
        return result


# English and native names of the locales Tornado knows about.
LOCALE_NAMES: Dict[str, Dict[str, str]] = {
    "af_ZA": {"name_en": "Afrikaans", "name": "Afrikaans"},
    "am_ET": {"name_en": "Amharic", "name": "\u12a0\u121b\u122d\u129b"},
    "ar_AR": {"name_en": "Arabic", "name": "\u0627\u0644\u0639\u0631\u0628\u064a\u0629"},
    "bg_BG": {"name_en": "Bulgarian", "name": "\u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438"},
    "bn_IN": {"name_en": "Bengali", "name": "\u09ac\u09be\u0982\u09b2\u09be"},
    "bs_BA": {"name_en": "Bosnian", "name": "Bosanski"},
    "ca_ES": {"name_en": "Catalan", "name": "Catal\u00e0"},
    "cs_CZ": {"name_en": "Czech", "name": "\u010ce\u0161tina"},
    "cy_GB": {"name_en": "Welsh", "name": "Cymraeg"},
    "da_DK": {"name_en": "Danish", "name": "Dansk"},
    "de_DE": {"name_en": "German", "name": "Deutsch"},
    "el_GR": {"name_en": "Greek", "name": "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac"},
    "en_GB": {"name_en": "English (UK)", "name": "English (UK)"},
    "en_US": {"name_en": "English (US)", "name": "English (US)"},
    "es_ES": {"name_en": "Spanish (Spain)", "name": "Espa\u00f1ol (Espa\u00f1a)"},
    "es_LA": {"name_en": "Spanish", "name": "Espa\u00f1ol"},
    "et_EE": {"name_en": "Estonian", "name": "Eesti"},
    "eu_ES": {"name_en": "Basque", "name": "Euskara"},
    "fa_IR": {"name_en": "Persian", "name": "\u0641\u0627\u0631\u0633\u06cc"},
    "fi_FI": {"name_en": "Finnish", "name": "Suomi"},
    "fr_CA": {"name_en": "French (Canada)", "name": "Fran\u00e7ais (Canada)"},
    "fr_FR": {"name_en": "French", "name": "Fran\u00e7ais"},
    "ga_IE": {"name_en": "Irish", "name": "Gaeilge"},
    "gl_ES": {"name_en": "Galician", "name": "Galego"},
    "he_IL": {"name_en": "Hebrew", "name": "\u05e2\u05d1\u05e8\u05d9\u05ea"},
    "hi_IN": {"name_en": "Hindi", "name": "\u0939\u093f\u0928\u094d\u0926\u0940"},
    "hr_HR": {"name_en": "Croatian", "name": "Hrvatski"},
    "hu_HU": {"name_en": "Hungarian", "name": "Magyar"},
    "id_ID": {"name_en": "Indonesian", "name": "Bahasa Indonesia"},
    "is_IS": {"name_en": "Icelandic", "name": "\u00cdslenska"},
    "it_IT": {"name_en": "Italian", "name": "Italiano"},
    "ja_JP": {"name_en": "Japanese", "name": "\u65e5\u672c\u8a9e"},
    "ko_KR": {"name_en": "Korean", "name": "\ud55c\uad6d\uc5b4"},
    "lt_LT": {"name_en": "Lithuanian", "name": "Lietuvi\u0173"},
    "lv_LV": {"name_en": "Latvian", "name": "Latvie\u0161u"},
    "mk_MK": {"name_en": "Macedonian", "name": "\u041c\u0430\u043a\u0435\u0434\u043e\u043d\u0441\u043a\u0438"},
    "ml_IN": {"name_en": "Malayalam", "name": "\u0d2e\u0d32\u0d2f\u0d3e\u0d33\u0d02"},
    "ms_MY": {"name_en": "Malay", "name": "Bahasa Melayu"},
    "nb_NO": {"name_en": "Norwegian (bokmal)", "name": "Norsk (bokm\u00e5l)"},
    "nl_NL": {"name_en": "Dutch", "name": "Nederlands"},
    "nn_NO": {"name_en": "Norwegian (nynorsk)", "name": "Norsk (nynorsk)"},
    "pa_IN": {"name_en": "Punjabi", "name": "\u0a2a\u0a70\u0a1c\u0a3e\u0a2c\u0a40"},
    "pl_PL": {"name_en": "Polish", "name": "Polski"},
    "pt_BR": {"name_en": "Portuguese (Brazil)", "name": "Portugu\u00eas (Brasil)"},
    "pt_PT": {"name_en": "Portuguese (Portugal)", "name": "Portugu\u00eas (Portugal)"},
    "ro_RO": {"name_en": "Romanian", "name": "Rom\u00e2n\u0103"},
    "ru_RU": {"name_en": "Russian", "name": "\u0420\u0443\u0441\u0441\u043a\u0438\u0439"},
    "sk_SK": {"name_en": "Slovak", "name": "Sloven\u010dina"},
    "sl_SI": {"name_en": "Slovenian", "name": "Sloven\u0161\u010dina"},
    "sq_AL": {"name_en": "Albanian", "name": "Shqip"},
    "sr_RS": {"name_en": "Serbian", "name": "\u0421\u0440\u043f\u0441\u043a\u0438"},
    "sv_SE": {"name_en": "Swedish", "name": "Svenska"},
    "sw_KE": {"name_en": "Swahili", "name": "Kiswahili"},
    "ta_IN": {"name_en": "Tamil", "name": "\u0ba4\u0bae\u0bbf\u0bb4\u0bcd"},
    "te_IN": {"name_en": "Telugu", "name": "\u0c24\u0c46\u0c32\u0c41\u0c17\u0c41"},
    "th_TH": {"name_en": "Thai", "name": "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22"},
    "tl_PH": {"name_en": "Filipino", "name": "Filipino"},
    "tr_TR": {"name_en": "Turkish", "name": "T\u00fcrk\u00e7e"},
    "uk_UA": {"name_en": "Ukrainian", "name": "\u0423\u043a\u0440\u0430\u0457\u043d\u0441\u044c\u043a\u0430"},
    "vi_VN": {"name_en": "Vietnamese", "name": "Ti\u1ebfng Vi\u1ec7t"},
    "zh_CN": {"name_en": "Chinese (Simplified)", "name": "\u4e2d\u6587(\u7b80\u4f53)"},
    "zh_TW": {"name_en": "Chinese (Traditional)", "name": "\u4e2d\u6587(\u7e41\u9ad4)"},
}
