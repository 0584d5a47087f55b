"""The course's language: English, or Simplified Chinese (简体中文), through gettext.

A message that the library shows a student goes through :func:`tr`, which returns it in the
current language: ``print(tr("All set: start with lesson 01."))``. A message with values is
translated first and filled in after, so that the catalogue holds one entry for all values:
``tr("{count} spikes in 30 steps").format(count=7)``.

The language is English until it is chosen, in one of two ways:

- one call, which the setup cell of every Chinese lesson makes:
  ``snnlab.i18n.set_language("zh_CN")``;
- the environment variable ``SNNLAB_LANG`` (``en`` or ``zh_CN``), read when this module is
  first imported (for example ``SNNLAB_LANG=zh_CN jupyter lab``).

The Chinese messages are the gettext catalogue ``snnlab/locale/zh_CN/LC_MESSAGES/snnlab.po``,
compiled to ``snnlab.mo`` beside it; both ship with the package. After editing the ``.po``,
compile it (Babel, in the dev extra), and commit both files::

    pybabel compile -d snnlab/locale -D snnlab -l zh_CN

Chinese also changes the figures' font (``snnlab.fonts``), so that titles, labels and legends
draw with real glyphs. Errors raised for programming mistakes stay English, as torch's do.
"""

from __future__ import annotations

import gettext
import unicodedata
from pathlib import Path

from snnlab import checks, config, fonts

LANGUAGES = ("en", "zh_CN")
DOMAIN = "snnlab"
LOCALE_DIR = Path(__file__).parent / "locale"

_language = "en"
_catalogue: gettext.NullTranslations = gettext.NullTranslations()


def set_language(lang: str) -> None:
    """Show every later message, widget and figure of the library in ``lang``: ``"en"``
    (English) or ``"zh_CN"`` (Simplified Chinese). Lesson 00."""
    global _language, _catalogue
    checks.choice("lang", lang, LANGUAGES)
    if lang == "en":
        _catalogue = gettext.NullTranslations()  # every message as it is written
        if _language != "en":
            fonts.use_english()
    else:
        _catalogue = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
        fonts.use_chinese()
    _language = lang


def language() -> str:
    """The current language: ``"en"`` or ``"zh_CN"``."""
    return _language


def tr(message: str, context: str | None = None) -> str:
    """``message`` in the current language (as it is, where the catalogue has no entry).

    ``context`` tells apart two uses of the same English words that Chinese says differently
    (gettext's ``msgctxt``): ``tr("rate", context="encoding")``."""
    if context is None:
        return _catalogue.gettext(message)
    return _catalogue.pgettext(context, message)


def width(text: str) -> int:
    """How many columns ``text`` takes in a monospaced font: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """``text`` with spaces after it, to ``columns`` columns: ``f"{text:<columns}"`` for any
    script, so that tables of Chinese and English line up."""
    return text + " " * max(0, columns - width(text))


def pad_left(text: str, columns: int) -> str:
    """``text`` with spaces before it, to ``columns`` columns: ``f"{text:>columns}"`` for any
    script (a right-aligned column of a table)."""
    return " " * max(0, columns - width(text)) + text


set_language(config.env_choice("SNNLAB_LANG", LANGUAGES, default="en"))
