"""The language fieldkit speaks to its users: Norwegian bokmål (``nb``) or English (``en``).

Every user-facing string goes through ``_()`` (or ``ngettext()`` for counts); strings that
must be defined before the language is known (class attributes, module constants) are
marked with ``N_()`` and translated where they are shown. The language comes from
``FIELDKIT_LANG`` (``nb`` or ``en``), else from the system locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``, ``LANGUAGE``): Norwegian (nb, nn, no) gives bokmål, anything else
English.

``FIELDKIT_LANG=pseudo`` is a developer's language: bokmål with every string that came from
the catalogue wrapped in ``⟦ ⟧`` (dates, numbers and the tag schemes as in bokmål). Any text
left outside the markers on a screen, in a --help or in an export bypassed the catalogue
(tests/*/test_pseudo_* walk the program in it).

Catalogues: ``fieldkit/locale/<lang>/LC_MESSAGES/*.po`` (edited by people; one file per part
of the program, e.g. ``cli.po``, ``tui.po``; the strings to translate are found with Babel's
extractor); the compiled ``fieldkit.mo`` beside them is made by Babel from all of them when
it is missing or older, the first time the language is used.
"""

from __future__ import annotations

import gettext as _gettext
import os
from pathlib import Path

DOMAIN = "fieldkit"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "nb")
DEFAULT = "en"
#: the pseudo-locale: Norwegian, each catalogue string between these markers
PSEUDO = "pseudo"
PSEUDO_OPEN, PSEUDO_CLOSE = "\u27e6", "\u27e7"   # ⟦ ⟧

_current: str | None = None
_pseudo = False
_translation: _gettext.NullTranslations | None = None


def _from_locale_name(name: str) -> str | None:
    name = name.strip().lower()
    if not name or name in ("c", "posix"):
        return None
    for part in name.split(":"):   # LANGUAGE may hold a list
        code = part.split(".")[0].split("@")[0].replace("-", "_").split("_")[0]
        if code in ("nb", "nn", "no"):
            return "nb"
        if code:
            return "en"
    return None


def detect_language() -> str:
    """``FIELDKIT_LANG`` first, then the system locale; ``en`` when nothing says otherwise."""
    explicit = os.environ.get("FIELDKIT_LANG", "").strip().lower()
    if explicit == PSEUDO:
        return PSEUDO
    if explicit:
        return "nb" if explicit.split("_")[0] in ("nb", "nn", "no") else "en"
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        found = _from_locale_name(os.environ.get(var, ""))
        if found:
            return found
    return DEFAULT


def compile_catalogue(lang: str) -> Path | None:
    """Compile the ``.po`` files of ``<lang>/LC_MESSAGES`` (``fieldkit.po`` and any other
    ``*.po`` beside it, one per part of the program) into one ``fieldkit.mo`` with Babel,
    when it is missing or older than a ``.po``. Returns the ``.mo`` path, or None when the
    language has no catalogue."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    sources = sorted(folder.glob("*.po")) if folder.is_dir() else []
    if not sources:
        return None
    mo = folder / f"{DOMAIN}.mo"
    if mo.exists() and mo.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return mo
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    merged = Catalog(locale=lang, domain=DOMAIN)
    for po in sources:
        with po.open("rb") as f:
            for message in read_po(f, locale=lang, domain=DOMAIN):
                if message.id and message.string:
                    merged[message.id] = message
    tmp = mo.with_name(f"{DOMAIN}.mo.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            write_mo(f, merged, use_fuzzy=False)
        os.replace(tmp, mo)
    except OSError:   # a read-only installation without a compiled catalogue: English
        tmp.unlink(missing_ok=True)
        return None
    return mo


class _PseudoTranslations(_gettext.NullTranslations):
    """Bokmål, each string found in the catalogue wrapped in the pseudo markers; a string
    the catalogue does not have comes back as it was (unmarked: the walk finds it)."""

    def __init__(self, nb: _gettext.NullTranslations):
        super().__init__()
        self._nb = nb
        self._known = getattr(nb, "_catalog", {})

    def gettext(self, message: str) -> str:
        if message in self._known:
            return f"{PSEUDO_OPEN}{self._nb.gettext(message)}{PSEUDO_CLOSE}"
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if (singular, 0) in self._known:
            return f"{PSEUDO_OPEN}{self._nb.ngettext(singular, plural, n)}{PSEUDO_CLOSE}"
        return singular if n == 1 else plural


def _load(lang: str) -> _gettext.NullTranslations:
    if lang == DEFAULT:
        return _gettext.NullTranslations()
    mo = compile_catalogue(lang)
    if mo is None:
        return _gettext.NullTranslations()
    with mo.open("rb") as f:
        return _gettext.GNUTranslations(f)


def set_language(lang: str | None = None) -> str:
    """Use ``lang`` (or the detected language) from now on; returns the language in use."""
    global _current, _translation, _pseudo
    lang = (lang or detect_language()).lower()
    if lang == PSEUDO:
        _current, _pseudo, _translation = "nb", True, _PseudoTranslations(_load("nb"))
        return "nb"
    if lang not in LANGUAGES:
        lang = DEFAULT
    _current, _pseudo, _translation = lang, False, _load(lang)
    return lang


def language() -> str:
    """The language in use (``en`` or ``nb``; the pseudo-locale is ``nb``)."""
    if _current is None:
        set_language()
    return _current  # type: ignore[return-value]


def language_setting() -> str:
    """What :func:`set_language` was given: ``en``, ``nb`` or ``pseudo`` (to set it again)."""
    return PSEUDO if _pseudo and language() == "nb" else language()


def _(message: str) -> str:
    """The message in the user's language."""
    if _translation is None:
        set_language()
    return _translation.gettext(message)  # type: ignore[union-attr]


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural in the user's language: ``ngettext("{n} minute", "{n} minutes", n)``."""
    if _translation is None:
        set_language()
    return _translation.ngettext(singular, plural, n)  # type: ignore[union-attr]


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; translate it with ``_()`` where shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair where it is defined (Babel extracts it like ``ngettext``);
    a :class:`Said` with ``n`` chooses the form where it is shown."""
    return singular, plural


def translate_click() -> None:
    """Let click's own words ("Usage:", "Options", "Show this message and exit.", its error
    messages) follow fieldkit's language.

    click looks its messages up with the standard library's ``gettext.gettext`` and
    ``ngettext`` (the process-wide default domain, chosen by the system locale only), bound
    by name in each of its modules. Rebinding those names to fieldkit's ``_``/``ngettext``
    makes click speak the language of ``FIELDKIT_LANG`` / :func:`set_language` too, from the
    same catalogue (click's English messages are msgids in ``cli.po``). Cheap: no import,
    only the click modules already loaded are touched; idempotent."""
    import sys

    for name, module in list(sys.modules.items()):
        if name != "click" and not name.startswith("click."):
            continue
        if getattr(module, "_", None) is _gettext.gettext:
            module._ = _
        if getattr(module, "ngettext", None) is _gettext.ngettext:
            module.ngettext = ngettext


# ---------------------------------------------------------------------------- dates and numbers
# Shown the way the user's language writes them: "9. mars 2026" and "1 234,5" in Norwegian.
# English keeps the ISO dates fieldkit has always shown ("2026-03-09", "2026-03-09 10:00"),
# which researchers also type into the forms. Babel is imported only when one is formatted.

_BABEL_LOCALE = {"nb": "nb_NO", "en": "en_GB"}


def babel_locale() -> str:
    """The Babel locale of the language in use (``nb_NO`` or ``en_GB``)."""
    return _BABEL_LOCALE.get(language(), "en_GB")


def format_date(d, format: str | None = None) -> str:
    """A date in the user's language: ``24. desember 2026`` in Norwegian, ``2026-12-24`` in
    English (``format``: Babel's ``short``, ``medium``, ``long``, ``full`` or a pattern such
    as ``"d. MMM"``; by default the long form in Norwegian and ISO in English); "" for None."""
    if d is None:
        return ""
    if isinstance(d, str):   # ISO text: a date, or a date and time
        from datetime import date, datetime

        text = d.strip()
        try:
            d = datetime.fromisoformat(text).date() if ("T" in text or " " in text) else date.fromisoformat(text[:10])
        except ValueError:
            return text
    if format is None:
        format = "medium" if language() == "en" else "long"
    if language() == "en" and format in ("short", "medium"):
        return d.strftime("%Y-%m-%d")
    from babel.dates import format_date as _format_date

    return _format_date(d, format=format, locale=babel_locale())


def format_datetime(dt, format: str = "medium") -> str:
    """A date and time in the user's language, in local time: ``9. mars 2026 10:00`` /
    ``2026-03-09 10:00``
    (``medium`` and ``short`` leave out the seconds); "" for None."""
    if dt is None:
        return ""
    from babel.dates import format_date as _format_date
    from babel.dates import format_time as _format_time

    if dt.tzinfo is not None:
        dt = dt.astimezone()   # the researcher's clock
    if language() == "en" and format in ("short", "medium"):
        return dt.strftime("%Y-%m-%d %H:%M")
    loc = babel_locale()
    if format in ("short", "medium"):
        return f"{_format_date(dt, format=format, locale=loc)} {_format_time(dt, 'HH:mm', locale=loc)}"
    from babel.dates import format_datetime as _format_datetime

    return _format_datetime(dt, format=format, locale=loc)


def format_number(n, decimals: int | None = None) -> str:
    """A number in the user's language: ``1 234,5`` / ``1,234.5`` (``decimals`` fixed places)."""
    from babel.numbers import format_decimal

    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(n, format=pattern, locale=babel_locale())
    return format_decimal(n, locale=babel_locale())


def format_percent(fraction: float) -> str:
    """A share in the user's language: ``42 %`` / ``42%``."""
    from babel.numbers import format_percent as _format_percent

    return _format_percent(fraction, locale=babel_locale())


# ---------------------------------------------------------------------------- messages of the core
# The core (recorder, runtime, recovery, consent ...) says what happened as a kind and its
# values; the words come from the catalogue. A Said is a str (so it can be shown, logged and
# compared like any text) in the language in use when it was said; ``render()`` words it
# again in the language in use now, which is what the interface does when it shows it.


class Said(str):
    """A message: ``kind`` (what happened, for code to act on), ``template`` (its English
    msgid, marked with ``N_``) and ``values``; with ``plural`` and ``n`` a count chooses the
    form (``ngettext``). Values may be Saids themselves, or dates (written the user's way)."""

    kind: str
    template: str
    plural: str | None
    n: int | None
    values: dict

    def __new__(cls, kind: str, template: "str | tuple[str, str]", *, plural: str | None = None,
                n: int | None = None, **values) -> "Said":
        if isinstance(template, tuple):   # N_plural("{n} file", "{n} files")
            template, plural = template
        obj = super().__new__(cls, _word(template, plural, n, values))
        obj.kind, obj.template, obj.plural, obj.n, obj.values = kind, template, plural, n, values
        return obj

    def render(self) -> str:
        """The message in the language in use now."""
        return _word(self.template, self.plural, self.n, self.values)

    def __reduce__(self):
        return (_said, (self.kind, self.template, self.plural, self.n, self.values))


def _said(kind: str, template: str, plural: str | None, n: int | None, values: dict) -> Said:
    return Said(kind, template, plural=plural, n=n, **values)


def _word(template: str, plural: str | None, n: int | None, values: dict) -> str:
    from datetime import date

    shown = {}
    for k, v in values.items():
        if isinstance(v, Said):
            v = v.render()
        elif isinstance(v, date):
            v = format_date(v)
        shown[k] = v
    text = ngettext(template, plural, n) if plural is not None and n is not None else _(template)
    return text.format(n=n, **shown) if n is not None else text.format(**shown)


def render(text: str) -> str:
    """Any text the core returned, in the language in use now (a Said is worded again)."""
    return text.render() if isinstance(text, Said) else text
