"""Finding English left in what a Chinese lesson shows: shared by the tests of the checkers,
widgets, training lines and figures that are translated through ``snnlab.i18n.tr``."""

from __future__ import annotations

import re

# Three or more English words in a row, separated by spaces or light punctuation: a sentence
# or a phrase. Single words (tensor, float32, NotImplementedError), identifiers (ce_rate,
# beta_from_tau), symbols (U, S, theta, T) and numbers are allowed in Chinese text.
_WORD = r"(?:[A-Za-z][a-z]+|a)\b"  # a word of two letters or more, or the article "a"
_PROSE = re.compile(rf"\b{_WORD}(?:[ ,;:'()/-]+{_WORD}){{2,}}")
_CODE = re.compile(r"`[^`]*`")  # code written in backticks stays code


def english_prose(text: str) -> list[str]:
    """The runs of three or more English words in ``text``, outside `backticks`."""
    return [match.group(0) for match in _PROSE.finditer(_CODE.sub(" ", text))]


def has_chinese(text: str) -> bool:
    """Whether ``text`` holds at least one Chinese character."""
    return re.search(r"[\u4e00-\u9fff]", text) is not None
