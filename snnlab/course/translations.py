"""The Chinese edition of a lesson, made from the English instructor edition and a
translation file: ``python -m snnlab edition`` calls :func:`chinese_lesson`.

The English instructor edition (``notebooks/solutions/NN_name.ipynb``) stays the one source
of code. ``translations/zh_CN/NN_name.json`` holds, per cell id, what a translator wrote::

    {"lesson": "NN_name",
     "cells": {"<markdown cell id>": {"source_sha1": "...", "markdown": "<the cell in Chinese>"},
               "<code cell id>": {"source_sha1": "...",
                                  "comments": {"<English comment>": "<Chinese>"},
                                  "docstrings": {"<English docstring>": "<Chinese>"}}}}

- a markdown cell is translated whole, without its "Open in Colab" line (the edition adds
  the badge);
- a code cell keeps its code: only its comments (the text after ``#`` and a space) and
  docstrings (``ast.get_docstring(node, clean=False)``) are replaced, in place, so that the
  layout stays; markers (``NBVAL_CHECK_OUTPUT``, ``noqa``, ...) are not translated;
- ``source_sha1`` is the SHA-1 of the English cell's source when it was translated: when the
  English cell changes, :func:`problems` says so, and no Chinese edition is made from it until
  its translation is brought up to date. The Colab badge line is the edition's, not the
  lesson's: the SHA-1 of the title cell without it counts too, so that a fork's URL (``python
  -m snnlab edition --repo``) leaves the translations up to date.

The Chinese edition's setup cell also chooses the language, ``snnlab.i18n.set_language
("zh_CN")``, so that everything the library prints, draws or shows is in Chinese where its
catalogue has it (``snnlab.i18n``).
"""

from __future__ import annotations

import ast
import copy
import hashlib
import io
import json
import re
import tokenize
from pathlib import Path
from typing import Any

LANGUAGE = "zh_CN"
FOLDER = Path("translations") / LANGUAGE  # under the checkout's root
BADGE_LINE = re.compile(r"^\[!\[Open in Colab\].*$\n?", flags=re.MULTILINE)
MARKERS = re.compile(r"^(NBVAL_\w+|noqa\b.*|type:\s*ignore.*)$")
# What the setup cell of a Chinese lesson adds: the course's language
LANGUAGE_SETUP = f'import snnlab.i18n\n\nsnnlab.i18n.set_language("{LANGUAGE}")'
# The setup cell is the edition's, the same in every lesson: translated here, once (a
# translation file's entry for it is not used, and its source_sha1 is not compared, so that a
# fork's URL leaves the translations up to date).
SETUP_ID = "colab-setup"
SETUP_COMMENTS = {
    "Google Colab only: install the course (elsewhere this cell does nothing).":
        "仅用于 Google Colab：安装本课程（在其他环境中，此单元格什么也不做）。",
}
LANGUAGE_COMMENT = "本课程的语言：课程库输出的文字、控件和图表都用中文"


def source_sha1(source: str) -> str:
    """The SHA-1 of a cell's source, as a translation file stores it."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _comment_tokens(code: str) -> list[tokenize.TokenInfo]:
    """The comment tokens of ``code`` that a translator translates (no markers)."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT and _comment_text(token) is not None:
                found.append(token)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # a cell that is not Python to the end: the comments up to there
    return found


def _comment_text(token: tokenize.TokenInfo) -> str | None:
    body = token.string[1:].strip()
    return body if body and not MARKERS.match(body) else None


def comments(code: str) -> list[str]:
    """The texts of ``code``'s comments to translate, in order, each once."""
    return list(dict.fromkeys(_comment_text(t) for t in _comment_tokens(code)))


def _docstring_nodes(code: str) -> list[ast.Constant]:
    """The docstrings' string constants (module, classes, functions). IPython's ``%magic``
    and ``!shell`` lines become blank lines first, so that line numbers stay."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line
             for line in code.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            if ast.get_docstring(node, clean=False):
                found.append(node.body[0].value)
    return found


def docstrings(code: str) -> list[str]:
    """The texts of ``code``'s docstrings, as ``ast.get_docstring(node, clean=False)``."""
    return [node.value for node in _docstring_nodes(code)]


def translate_code(code: str, comment_zh: dict[str, str], docstring_zh: dict[str, str]) -> str:
    """``code`` with each comment and docstring replaced by its translation, every other
    character as it was. A comment or docstring without translation is a ValueError."""
    line_starts = [0]
    for line in code.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def offset(position: tuple[int, int]) -> int:  # tokenize's (row, column) in ``code``
        return line_starts[position[0] - 1] + position[1]

    edits = []  # (start, end, new text): ``code[start:end]`` becomes the new text
    for token in _comment_tokens(code):
        english = _comment_text(token)
        if english not in comment_zh:
            raise ValueError(f"the comment {english!r} has no translation")
        start = offset(token.start) + token.string.index(english)
        edits.append((start, start + len(english), comment_zh[english]))
    strings = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
               if t.type == tokenize.STRING] if _docstring_nodes(code) else []
    for node in _docstring_nodes(code):
        if node.value not in docstring_zh:
            raise ValueError(f"the docstring {node.value[:60]!r} has no translation")
        literal = next(t for t in strings if t.start[0] == node.lineno)
        prefix = re.match(r"[A-Za-z]*", literal.string).group(0)
        rest = literal.string[len(prefix):]
        quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[0]
        if rest[len(quote):-len(quote)] != node.value:
            raise ValueError(f"the docstring {node.value[:60]!r} has escapes or is split: "
                             "the Chinese edition cannot replace it in place")
        edits.append((offset(literal.start) + len(prefix) + len(quote),
                      offset(literal.end) - len(quote), docstring_zh[node.value]))
    translated = code
    for start, end, new in sorted(edits, reverse=True):
        translated = translated[:start] + new + translated[end:]
    for english, node in zip(docstrings(code), _docstring_nodes(translated), strict=True):
        if node.value != docstring_zh[english]:  # a quote or backslash in the translation
            raise ValueError(f"the translation of the docstring {english[:60]!r} cannot be "
                             "written between its quotes as it is: write it without \\ and "
                             "without the docstring's own quotes")
    return translated


def setup_cell(english_setup: str) -> str:
    """The Chinese edition's setup cell: the English one with its comments in Chinese, then
    the lines that choose the language."""
    return (translate_code(english_setup, SETUP_COMMENTS, {}) + "\n\n"
            + f"# {LANGUAGE_COMMENT}\n{LANGUAGE_SETUP}")


def path(root: Path, lesson: str) -> Path:
    """Where the translation file of ``lesson`` (``NN_name``) is."""
    return root / FOLDER / f"{lesson}.json"


def read(file: Path) -> dict[str, Any]:
    """A translation file, its form checked: a ValueError names the file and what is wrong."""
    try:
        translation = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{file} is not a readable translation file ({error})") from None
    cells = translation.get("cells") if isinstance(translation, dict) else None
    if translation.get("lesson") != file.stem or not isinstance(cells, dict):
        raise ValueError(f'{file} must be {{"lesson": "{file.stem}", "cells": {{...}}}}')
    for cid, cell in cells.items():
        if not isinstance(cell, dict) or not isinstance(cell.get("source_sha1"), str):
            raise ValueError(f"{file}: cell {cid} has no source_sha1")
    return translation


def _to_translate(cell: Any) -> bool:
    """A markdown cell, or a code cell with a comment or docstring."""
    if cell["cell_type"] == "markdown":
        return True
    code = _text(cell["source"])
    return cell["cell_type"] == "code" and bool(comments(code) or docstrings(code))


def problems(english: Any, translation: dict[str, Any]) -> list[str]:
    """What keeps ``translation`` from making the Chinese edition of the English instructor
    edition ``english``: an English cell changed since it was translated, a markdown cell,
    comment or docstring without translation, a translated cell that is no longer there.
    Empty when there is nothing."""
    found = []
    cells = translation["cells"]
    wanted = {}
    for cell in english["cells"]:
        if cell.get("id") == SETUP_ID or not _to_translate(cell):
            continue
        source, cid = _text(cell["source"]), cell["id"]
        wanted[cid] = cell
        done = cells.get(cid)
        if done is None:
            found.append(f"cell {cid} ({cell['cell_type']}) has no translation")
            continue
        if done["source_sha1"] not in (source_sha1(source),
                                       source_sha1(BADGE_LINE.sub("", source))):
            found.append(f"cell {cid} changed since it was translated: bring its translation "
                         f"up to date, then set its source_sha1 to "
                         f"{source_sha1(BADGE_LINE.sub('', source))}")
        if cell["cell_type"] == "markdown":
            if not done.get("markdown", "").strip():
                found.append(f"cell {cid} (markdown) has no Chinese text")
            continue
        for text in comments(source):
            if text not in done.get("comments", {}):
                found.append(f"cell {cid}: the comment {text!r} has no translation")
        for text in docstrings(source):
            if text not in done.get("docstrings", {}):
                found.append(f"cell {cid}: the docstring {text[:40]!r} has no translation")
    found += [f"cell {cid} is translated but the lesson has no such cell to translate"
              for cid in cells if cid not in wanted and cid != SETUP_ID]
    return found


def chinese_lesson(english: Any, translation: dict[str, Any]) -> Any:
    """The Chinese instructor edition of the English instructor edition ``english`` (without
    its Colab cells, which the edition adds): markdown from the translation, code with its
    comments and docstrings translated, no outputs (they come from running it). The
    translation must have no :func:`problems`."""
    nb = copy.deepcopy(english)
    for cell in nb["cells"]:
        done = translation["cells"].get(cell.get("id"))
        if done is None or cell.get("id") == SETUP_ID:
            pass
        elif cell["cell_type"] == "markdown":
            cell["source"] = BADGE_LINE.sub("", done["markdown"])
        else:
            cell["source"] = translate_code(_text(cell["source"]), done.get("comments", {}),
                                            done.get("docstrings", {}))
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            cell["metadata"].pop("execution", None)
    return nb


def sources(nb: Any) -> list[tuple]:
    """What the generator decides in a notebook, and running it leaves alone: each cell's id,
    type, source, tags and attachments."""
    return [(c.get("id"), c["cell_type"], _text(c["source"]),
             sorted(c.get("metadata", {}).get("tags", [])), c.get("attachments"))
            for c in nb["cells"]]


def code_without_docstrings(code: str) -> str:
    """``code``'s syntax tree without its docstrings, as text (comments are not in it): two
    cells whose trees are equal differ at most in comments, docstrings and layout."""
    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(code))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            if ast.get_docstring(node, clean=False):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)
