"""The two editions of the course, kept in sync: ``python -m snnlab edition``.

- ``notebooks/solutions/NN_*.ipynb``, the instructor edition, is the source: every exercise
  with its reference solution, every output from a real full run.
- ``notebooks/NN_*.ipynb``, the student edition, is generated from it by the handout tool's
  ``student_version``: solutions become stubs, explanations go, check cells lose their
  "passed" output. Its figures and videos are those of the instructor edition's run.

``python -m snnlab edition`` writes the student edition; ``--check`` only compares, exits 1 and
names each lesson that differs (CI runs it as a test). On the way, both editions get what
makes them work wherever they are opened:

- an "Open in Colab" badge under the title, pointing at the edition's own file;
- a first code cell (tagged ``colab-setup``) that installs the course when it runs in Google
  Colab (where ``google.colab`` can be imported) and does nothing anywhere else;
- in the student edition, check cells lose their ``# NBVAL_CHECK_OUTPUT`` line: their
  output ("not implemented yet", later "passed") is the student's, not the reference's;
- in the student edition, a later cell that runs a student's function says "this cell runs
  your ...: write it first" instead of failing, until the exercise is written (it is wrapped
  in ``try: ... except NotImplementedError``), so every lesson runs top to bottom unfilled;
- the diagrams (``![...](../assets/NAME.png)``) embedded as cell attachments, so they show
  in Colab, on GitHub and in exported handouts alike.

A lesson with a translation file (``translations/zh_CN/NN_name.json``) also gets its two
Chinese editions, made by ``snnlab.course.translations`` from the English instructor edition:
``notebooks/zh/solutions/NN_name.ipynb`` (instructor) and ``notebooks/zh/NN_name.ipynb``
(student), with their own badges, and a setup cell that also chooses the language. The
Chinese instructor edition's outputs come from running it (``jupyter nbconvert --execute``),
so it counts as up to date when its cells (ids, types, sources, tags, attachments) are what
the generator makes, and a change of its text alone (a translation's markdown, a diagram, the
repository's URL) is written into it with its outputs kept; the Chinese student edition is
made from it as the English student edition is made from the English instructor edition. A
translation that is out of date (an
English cell changed since) or incomplete makes no Chinese edition: the command names what
to translate, leaves that lesson's Chinese files as they are, and exits 1.

The repository all use is ``[project.urls] Repository`` in ``pyproject.toml``, the one place
it is written. For a fork: ``python -m snnlab edition --repo https://github.com/YOU/snnlab``
rewrites it there, and every badge and setup cell with it.

The command works only in the course's checkout (the folder with snnlab's ``pyproject.toml``
and ``notebooks/solutions/``), and it reads and checks everything (the checkout, the URL,
every lesson and diagram) before it writes anything: a mistake leaves every file as it was.
"""

from __future__ import annotations

import argparse
import ast
import base64
import copy
import re
import sys
from pathlib import Path
from typing import Any

from snnlab.course import handout, translations
from snnlab.course.handout import BADGE_LINE, CHECK_MARKER, SETUP_TAG

SOLUTION_TAGS = {"solution", "solution-explanation", SETUP_TAG}
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
DIAGRAM = re.compile(r"!\[([^\]]*)\]\(\.\./assets/([\w.-]+\.png)\)")
# a Chinese diagram (assets/zh/NAME.png, drawn by assets/make_diagrams.py --lang zh_CN), as a
# translation links it from notebooks/zh/
ZH_DIAGRAM = re.compile(r"!\[([^\]]*)\]\(\.\./\.\./assets/zh/([\w.-]+\.png)\)")
URL_LINE = re.compile(r'^(Repository\s*=\s*")([^"]*)(")', flags=re.MULTILINE)
ZH = Path("notebooks") / "zh"  # the Chinese editions, under the checkout's root
GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(\.git)?/?$")


# pyproject.toml's [project] table (up to the next table header), and the name in it
PROJECT_TABLE = re.compile(r"^\[project\][ \t]*$(.*?)(?=^\[|\Z)", flags=re.MULTILINE | re.DOTALL)
NAME_LINE = re.compile(r'^name\s*=\s*"([^"]*)"', flags=re.MULTILINE)
CHECKOUT = ("run this command in the top folder of a checkout of the course's repository (the "
            "folder with snnlab's pyproject.toml and notebooks/solutions/; an installed snnlab "
            "does not carry the lessons it rewrites)")


def check_checkout(root: Path) -> None:
    """``root`` must be the course's checkout: snnlab's ``pyproject.toml`` (with its
    Repository line) and lessons in ``notebooks/solutions/``. Else a FileNotFoundError or
    ValueError says what is missing, before anything is read further or written."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise FileNotFoundError(f"{root} has no pyproject.toml: {CHECKOUT}")
    table = PROJECT_TABLE.search(pyproject.read_text())
    name = NAME_LINE.search(table.group(1)) if table else None
    if name is None or name.group(1) != "snnlab":
        found = f"name = {name.group(1)!r}" if name else "no name under [project]"
        raise ValueError(f"{pyproject} is not snnlab's ({found}): {CHECKOUT}")
    repository(root)  # its Repository line must be there
    lessons = root / "notebooks" / "solutions"
    if not sorted(lessons.glob("[0-9][0-9]_*.ipynb")):
        raise FileNotFoundError(f"no lessons in {lessons} (expected NN_*.ipynb): {CHECKOUT}")


def repository(root: Path) -> str:
    """The course's repository URL, from ``pyproject.toml``'s ``[project.urls]``."""
    match = URL_LINE.search((root / "pyproject.toml").read_text())
    if match is None:
        raise ValueError(f"{root / 'pyproject.toml'} has no 'Repository = \"...\"' line under "
                         "[project.urls]")
    return match.group(2)


def check_repository(url: str) -> str:
    """``url`` as the course's repository: a GitHub one (Colab opens notebooks from GitHub),
    without a trailing slash."""
    if GITHUB.match(url) is None:
        raise ValueError(f"--repo must be a GitHub repository such as "
                         f"https://github.com/YOU/snnlab (Colab opens notebooks from GitHub), "
                         f"got {url!r}")
    return url.rstrip("/")


def set_repository(root: Path, url: str) -> None:
    """Write ``url`` (checked by :func:`check_repository`) into ``pyproject.toml``."""
    path = root / "pyproject.toml"
    repository(root)  # the line must be there
    path.write_text(URL_LINE.sub(lambda m: m.group(1) + url + m.group(3),
                                 path.read_text(), count=1))


def setup_source(url: str) -> str:
    """The Colab setup cell: install the course from ``url`` in Colab, nothing elsewhere."""
    return (
        "# Google Colab only: install the course (elsewhere this cell does nothing).\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if importlib.util.find_spec("google.colab") is not None:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
        f'                    "git+{url}"], check=True)\n'
        "    importlib.invalidate_caches()"
    )


def _badge(url: str, notebook: str) -> str:
    owner, name = GITHUB.match(url).group(1, 2)
    target = f"https://colab.research.google.com/github/{owner}/{name}/blob/main/{notebook}"
    return f"[![Open in Colab]({BADGE})]({target})\n"


def _attach_diagrams(cell: Any, assets: Path, lesson: str,
                     pattern: re.Pattern = DIAGRAM) -> None:
    """Replace ``![text](../assets/NAME.png)`` (or what ``pattern`` finds: ``ZH_DIAGRAM``, with
    ``assets/zh``) by an attachment of that PNG, in place; it replaces an attachment of that
    name (the English diagram that a translated cell carries)."""
    def attach(match: re.Match) -> str:
        text, name = match.groups()
        png = assets / name
        if not png.is_file():
            raise FileNotFoundError(f"the diagram {png} named in {lesson} is missing")
        cell.setdefault("attachments", {})[name] = {
            "image/png": base64.b64encode(png.read_bytes()).decode("ascii")}
        return f"![{text}](attachment:{name})"

    cell["source"] = pattern.sub(attach, _text(cell["source"]))
    left = re.search(r"!\[.*?\]\(\.\./assets/[^)]*\)", cell["source"], flags=re.DOTALL)
    if left is not None:  # it would show as a broken image in Colab, on GitHub, in handouts
        raise ValueError(f"{lesson} links the diagram {left.group(0)!r} in a form the edition "
                         "cannot embed: write ![text without brackets](../assets/NAME.png), "
                         "with NAME of letters, digits, '.', '_' and '-'")


def _tags(cell: Any) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _exercise_names(nb: Any) -> list[str]:
    """The functions and classes the lesson's exercises ask for (defined in solution cells)."""
    names = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "solution" in _tags(cell):
            names += re.findall(r"^(?:def|class)\s+(\w+)", _text(cell["source"]), re.MULTILINE)
    return names


# The comment that heads a waiting cell, in each language of the editions
WAIT_COMMENTS = {"en": "this cell runs your {names} from the exercise above",
                 "zh_CN": "这个单元格运行你在上面练习中写的 {names}"}


def _wait_for_exercises(cell: Any, exercises: list[str], language: str = "en") -> None:
    """A later cell that runs a student's function: in the student edition it says so,
    instead of failing, until the exercise is written (``snnlab.course.write_it_first``
    prints it in the course's language; the comment is in ``language``). Its stored output
    (the reference's) goes, and so does its NBVAL_CHECK_OUTPUT line."""
    source = _text(cell["source"])
    called = _names_used(source)
    used = [name for name in exercises if name in called]
    if not used:
        return
    names = ", ".join(f"`{name}`" for name in used)
    quoted = ", ".join(f'"{name}"' for name in used)
    body = CHECK_MARKER.sub("", source)
    cell["source"] = (
        f"try:  # {WAIT_COMMENTS[language].format(names=names)}\n"
        + "".join(f"    {line}" if line.strip() else line
                  for line in body.splitlines(keepends=True)).rstrip("\n")
        + "\nexcept NotImplementedError:\n    from snnlab.course import write_it_first\n"
        + f"    write_it_first({quoted})"
    )
    cell["outputs"], cell["execution_count"] = [], None


def _names_used(source: str) -> set[str]:
    """The variable names a cell's code reads: ``accuracy`` in ``accuracy(s, y)`` or
    ``check(accuracy)``, not in ``"accuracy"``, ``h["test_accuracy"]``, ``x.accuracy``,
    ``f(accuracy=1)``, ``accuracy = ...`` or a comment. IPython's ``%magic`` and ``!shell``
    lines are translated to Python first (their own text is not read); a cell that is still
    not Python (a deliberate syntax error) counts every word that is not an attribute."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set(re.findall(r"(?<![\w.])([A-Za-z_]\w*)", source))
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _with_colab(nb: Any, url: str, notebook: str, setup: str | None = None) -> Any:
    """``nb`` with its badge (under the first heading) and setup cell (first code cell;
    ``setup``, by default :func:`setup_source`)."""
    import nbformat

    nb = copy.deepcopy(nb)
    cells = [c for c in nb["cells"] if SETUP_TAG not in _tags(c)]
    title = next(c for c in cells if c["cell_type"] == "markdown")
    lines = BADGE_LINE.sub("", _text(title["source"])).split("\n", 1)
    rest = lines[1].lstrip("\n") if len(lines) > 1 else ""
    # a blank line after the badge, or Markdown joins it and the text into one paragraph
    title["source"] = lines[0] + "\n\n" + _badge(url, notebook) + ("\n" + rest if rest else "")
    setup = nbformat.v4.new_code_cell(setup_source(url) if setup is None else setup,
                                      id="colab-setup", metadata={"tags": [SETUP_TAG]})
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    cells.insert(first_code, setup)
    nb["cells"] = cells
    return nb


def _dump(nb: Any) -> str:
    import nbformat

    return nbformat.writes(nbformat.from_dict(nb)) + "\n"


def _read_lesson(path: Path) -> Any:
    """The lesson notebook at ``path``; a file that is not one is a ValueError naming it."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        raise ValueError(f"{path} is not a valid notebook ({error.message})") from None
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as error:
        # (nbformat's NotJSONError is a ValueError, and says "does not appear to be JSON")
        raise ValueError(f"{path} is not a readable notebook ({error})") from None
    return nb


def _student(instructor: Any, url: str, notebook: str, setup: str, language: str = "en") -> Any:
    """The student edition made from the instructor edition ``instructor``, its stubs' and
    waiting cells' comments in ``language``."""
    student = handout.student_version(instructor, name=Path(notebook).name, language=language)
    student = handout._without_widget_views(student)
    exercises = _exercise_names(instructor)
    for cell in student.cells:
        if handout.is_check_cell(cell):  # its output is the student's, not the reference's
            cell.source = CHECK_MARKER.sub("", cell.source)
        elif cell.cell_type == "code" and SOLUTION_TAGS.isdisjoint(_tags(cell)):
            _wait_for_exercises(cell, exercises, language)
    return _with_colab(student, url, notebook, setup)


def _sources(root: Path) -> list[Path]:
    return sorted((root / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _translation(root: Path, source: Path, nb: Any) -> tuple[Any, list[str]]:
    """The lesson's translation (None when it has no translation file) and its problems."""
    file = translations.path(root, source.stem)
    if not file.is_file():
        return None, []
    translation = translations.read(file)
    return translation, translations.problems(nb, translation)


def untranslated(root: Path) -> list[str]:
    """Why a lesson with a translation file gets no Chinese edition, one line per problem
    (empty when every translation is complete and up to date)."""
    found = []
    for source in _sources(root):
        _, problems = _translation(root, source, _read_lesson(source))
        file = translations.path(root, source.stem).relative_to(root)
        found += [f"{file}: {problem}" for problem in problems]
    return found


def editions(root: Path, url: str | None = None) -> dict[Path, str]:
    """Every file of the editions as it should be, {path: notebook text}, with the
    repository ``url`` (default: pyproject.toml's): the English student edition, and the two
    Chinese editions of each lesson whose translation is complete and up to date. Reads and
    checks; writes nothing."""
    check_checkout(root)
    url = repository(root) if url is None else url
    wanted = {}
    for source in _sources(root):
        nb = _read_lesson(source)
        translation, problems = _translation(root, source, nb)
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                _attach_diagrams(cell, root / "assets", str(source.relative_to(root)))
        instructor = _with_colab(nb, url, f"notebooks/solutions/{source.name}")
        wanted[source] = _dump(instructor)
        wanted[root / "notebooks" / source.name] = _dump(
            _student(instructor, url, f"notebooks/{source.name}", setup_source(url)))
        if translation is not None and not problems:
            wanted.update(_chinese(root, source, nb, translation, url))
    return wanted


def _chinese(root: Path, source: Path, nb: Any, translation: Any, url: str) -> dict[Path, str]:
    """The two Chinese editions of the lesson ``nb`` (its diagrams attached). The stored
    instructor edition stays, outputs and all, when its cells are what the translation makes."""
    setup = translations.setup_cell(setup_source(url))
    zh = translations.chinese_lesson(nb, translation)
    for cell in zh["cells"]:
        if cell["cell_type"] == "markdown":
            _attach_diagrams(cell, root / "assets", str(source.relative_to(root)))
            _attach_diagrams(cell, root / "assets" / "zh", str(source.relative_to(root)),
                             ZH_DIAGRAM)
    instructor_path = root / ZH / "solutions" / source.name
    instructor = _with_colab(zh, url, f"{ZH.as_posix()}/solutions/{source.name}", setup)
    text = _dump(instructor)
    if instructor_path.is_file():
        stored = _read_lesson(instructor_path)
        if translations.sources(stored) == translations.sources(instructor):
            instructor, text = stored, instructor_path.read_text()
        elif _code(stored) == _code(instructor):
            # only the text changed (a translation's markdown, a diagram, the repository's URL
            # in the badge and in the setup cell, which does nothing outside Colab): the code
            # is the same, so the stored outputs are still this lesson's
            for cell, new in zip(stored.cells, instructor["cells"], strict=True):
                cell.source = new["source"]
                cell.pop("attachments", None)
                if new.get("attachments"):
                    cell["attachments"] = new["attachments"]
            instructor, text = stored, _dump(stored)
    student = _student(instructor, url, f"{ZH.as_posix()}/{source.name}", setup,
                       translations.LANGUAGE)
    return {instructor_path: text, root / ZH / source.name: _dump(student)}


def _code(nb: Any) -> list[tuple]:
    """What :func:`translations.sources` says of ``nb``'s code cells (less the setup cell,
    whose only difference can be the repository's URL), and the ids and types of the others:
    equal for two editions whose outputs are the same."""
    return [(cid, kind, *((source, tags) if kind == "code" else ()))
            for cid, kind, source, tags, _ in translations.sources(nb)
            if cid != translations.SETUP_ID]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``edition`` subcommand's arguments."""
    parser.add_argument("--check", action="store_true",
                        help="only compare: exit 1 and name each notebook that is out of date")
    parser.add_argument("--repo", metavar="URL",
                        help="set the course's GitHub repository (for a fork) first")


def main(args: argparse.Namespace) -> int:
    """``python -m snnlab edition [--check] [--repo URL]``, from the repository's top folder.

    Everything is read and checked first (the checkout, the URL, every lesson and diagram);
    only then is anything written."""
    root = Path.cwd()
    if args.repo is not None and args.check:
        raise ValueError("--repo changes files; it cannot go with --check")
    url = None if args.repo is None else check_repository(args.repo)
    wanted = editions(root, url)
    if url is not None:
        set_repository(root, url)
        print(f"pyproject.toml: Repository = {url}")
    stale = [path for path, text in wanted.items()
             if not path.is_file() or path.read_text() != text]
    untranslated_now = untranslated(root)
    for problem in untranslated_now:  # that lesson's Chinese editions are left as they are
        print(f"no Chinese edition: {problem}", file=sys.stderr)
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(root)}", file=sys.stderr)
        if stale:
            print("run `python -m snnlab edition` to regenerate", file=sys.stderr)
        return 1 if stale or untranslated_now else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(root)}")
        if path.parent == root / ZH / "solutions":
            print(f"  run it to store its outputs: SNNLAB_QUICK= jupyter nbconvert --execute "
                  f"--inplace {path.relative_to(root)}, then this command again")
    if not stale:
        print("every edition is up to date")
    return 1 if untranslated_now else 0
