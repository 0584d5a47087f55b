"""Chinese text in figures: the Noto Sans CJK SC font, which pip installs with the course.

Matplotlib's own fonts (DejaVu) have no Chinese characters: a Chinese title would draw as
empty boxes, with a "Glyph ... missing from font(s) DejaVu Sans" warning. The package
``mplfonts`` (a dependency of snnlab) ships ``NotoSansCJKsc-Regular.otf`` (SIL Open Font
License). :func:`use_chinese` registers that file with matplotlib's font manager and puts it
first in the sans-serif list. Matplotlib takes one font from that list, so a character Noto
lacks (✗, ✓) would still be a box: DejaVu Sans is also added at the end of ``font.family``,
which matplotlib does search glyph by glyph. Mathtext (``$\\beta$``) keeps its DejaVu math
fonts. ``snnlab.i18n`` calls it when the language is Chinese, and :func:`use_english` when it
is English again.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

CHINESE_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CHINESE_FONT = "Noto Sans CJK SC"  # the family name inside that file
FALLBACK_FONT = "DejaVu Sans"  # matplotlib's own: every glyph Noto lacks (✗, ✓, ...)
# its monospaced sister (a Chinese character exactly two columns wide), for code in handouts
CHINESE_MONO_FONT_FILE = "NotoSansMonoCJKsc-Regular.otf"


def chinese_font_file(name: str = CHINESE_FONT_FILE) -> Path:
    """The path of the font file ``name`` (by default ``NotoSansCJKsc-Regular.otf``) inside
    the installed ``mplfonts`` package (found without importing it); a clear error when the
    package is missing."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("Chinese figures need the font package mplfonts, a dependency "
                                  "of snnlab: pip install mplfonts, then restart the kernel")
    path = Path(spec.submodule_search_locations[0]) / "fonts" / name
    if not path.is_file():
        raise FileNotFoundError(f"mplfonts is installed but has no {path}: reinstall it "
                                "(pip install --force-reinstall mplfonts)")
    return path


def use_chinese() -> None:
    """Draw every later figure's text in Noto Sans CJK SC, DejaVu Sans as the fallback."""
    import matplotlib
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(chinese_font_file()))  # adding it twice is harmless
    families = [f for f in matplotlib.rcParams["font.sans-serif"] if f != CHINESE_FONT]
    matplotlib.rcParams["font.sans-serif"] = [CHINESE_FONT, *families]
    # font.family (["sans-serif"]) is searched glyph by glyph, one font per entry
    chosen = [f for f in matplotlib.rcParams["font.family"] if f != FALLBACK_FONT]
    matplotlib.rcParams["font.family"] = [*chosen, FALLBACK_FONT]


def use_english() -> None:
    """Undo :func:`use_chinese`: matplotlib's own sans-serif list again."""
    import matplotlib

    matplotlib.rcParams["font.sans-serif"] = [
        f for f in matplotlib.rcParams["font.sans-serif"] if f != CHINESE_FONT]
    family = list(matplotlib.rcParams["font.family"])
    if len(family) > 1 and family[-1] == FALLBACK_FONT:  # the one use_chinese added
        matplotlib.rcParams["font.family"] = family[:-1]
