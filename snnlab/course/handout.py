"""Handouts: a lesson notebook as a student sheet (exercises, no solutions) or an instructor sheet.

``python -m snnlab handout NOTEBOOK... --version {student,instructor} --to {ipynb,html,pdf}
--out DIR [--execute] [--quick]``

How a lesson marks its exercises (the nbgrader convention, with cell tags):

- a markdown cell states the exercise;
- the next code cell, tagged ``solution``, holds the reference solution: a function with its
  signature, docstring and body;
- a code cell calls ``snnlab.exercises.check_<name>(your_function)``;
- cells tagged ``solution-explanation`` may follow, discussing the solution.

The student version turns every ``solution`` cell into a stub (signature and docstring kept, the
body replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError``), clears the outputs of
solution and check cells, and drops the ``solution-explanation`` cells. The checkers stay, so a
student who runs one before writing the function reads "not implemented yet".

With ``--execute`` the full notebook runs first (in quick mode with ``--quick``), and the student
version is stripped from that run, so its figures are real.
"""

from __future__ import annotations

import argparse
import ast
import base64
import copy
import html
import io
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snnlab import files, fonts
from snnlab.i18n import tr

COURSE_TITLE = "snnlab: Spiking Neural Networks"
VERSIONS = ("student", "instructor")
FORMATS = ("ipynb", "html", "pdf")
SOLUTION_TAG = "solution"
EXPLANATION_TAG = "solution-explanation"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")
# The stub's first line in each language of the editions (a comment: the code stays one code)
STUB_COMMENTS = {"en": STUB_LINES[0], "zh_CN": "# 在这里写你的代码"}
CHROMIUM_ENV_VARS = ("SNNLAB_CHROMIUM", "CHROME_PATH")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# What the editions add to every lesson (snnlab.course.editions) for Colab and for the tests:
# the setup cell, the badge under the title, nbval's marker on cells whose output it compares.
SETUP_TAG = "colab-setup"
BADGE_LINE = re.compile(r"^\[!\[Open in Colab\]\([^)]*\)\]\([^)]*\)\n?", flags=re.MULTILINE)
CHECK_MARKER = re.compile(r"^# NBVAL_CHECK_OUTPUT\n", flags=re.MULTILINE)


class HandoutError(Exception):
    """A handout could not be built; the message says which notebook, which cell and why."""


# ---------------------------------------------------------------------------------------------
# The lesson: number and title
# ---------------------------------------------------------------------------------------------


@dataclass
class Lesson:
    path: Path
    number: str | None  # "02" from 02_lif_neuron.ipynb; None when the name has no NN_ prefix
    title: str  # the first markdown heading

    @property
    def heading(self) -> str:
        """'Lesson 02: The leaky integrate-and-fire neuron' (or just the title)."""
        return f"Lesson {self.number}: {self.title}" if self.number else self.title


def lesson_info(path: Path, nb: Any) -> Lesson:
    """The lesson number from the file name prefix (NN_...) and the title from the first heading.

    A heading that already starts with "Lesson N:" or "NN ·" loses that prefix, so the number is
    not said twice.
    """
    number = re.match(r"(\d+)_", path.name)
    title = path.stem
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        heading = re.search(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", cell.source, flags=re.MULTILINE)
        if heading:
            title = re.sub(r"^(Lesson\s+)?\d+\s*[:.\u00b7\u2013\u2014-]\s*", "", heading.group(1))
            break
    return Lesson(path=path, number=number.group(1) if number else None, title=title)


# ---------------------------------------------------------------------------------------------
# The student version: solutions become stubs
# ---------------------------------------------------------------------------------------------


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_check_cell(cell: Any) -> bool:
    """A code cell that calls a checker, ``check_<name>(...)``, at its top level."""
    if cell.cell_type != "code":
        return False
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:  # IPython magics: fall back to reading the text
        return bool(re.search(r"^\s*(\w+\.)*check_\w+\s*\(", cell.source, flags=re.MULTILINE))
    for statement in tree.body:
        value = getattr(statement, "value", None)  # `check_x(f)` or `ok = check_x(f)`
        if isinstance(value, ast.Call):
            function = value.func
            name = getattr(function, "attr", None) or getattr(function, "id", "")
            if name.startswith("check_"):
                return True
    return False


def _docstring_node(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):
            return first
    return None


def _stub_lines(language: str) -> tuple[str, str]:
    return STUB_COMMENTS[language], STUB_LINES[1]


def _stub_function(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str],
                   language: str = "en") -> list[str]:
    """The function's decorators, signature and docstring as written, then the stub body."""
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    first = node.body[0]
    docstring = _docstring_node(node)
    header_end = docstring.end_lineno if docstring else first.lineno - 1
    indent = " " * first.col_offset
    if lines[first.lineno - 1][: first.col_offset].strip():  # body on the `def` line itself
        bare = copy.copy(node)
        bare.decorator_list, bare.body = [], [ast.Pass()]
        signature = ast.unparse(bare).splitlines()[0]
        decorators = [f"@{ast.unparse(d)}" for d in node.decorator_list]
        indent = " " * (node.col_offset + 4)
        doc = [indent + repr(docstring.value.value)] if docstring else []
        header = [" " * node.col_offset + line for line in decorators + [signature.strip()]] + doc
    else:
        header = lines[start:header_end]
    return header + [indent + line for line in _stub_lines(language)]


def _stub_class(node: ast.ClassDef, lines: list[str], language: str = "en") -> list[str]:
    """The class header and docstring, its non-method statements, and every method as a stub."""
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    docstring = _docstring_node(node)
    header_end = docstring.end_lineno if docstring else node.body[0].lineno - 1
    out = lines[start:header_end]
    for statement in node.body:
        if statement is docstring:
            continue
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out += [""] + _stub_function(statement, lines, language)
        else:
            out += lines[statement.lineno - 1 : statement.end_lineno]
    return out


def stub_solution(source: str, language: str = "en") -> str:
    """The student's stub for a solution cell.

    Imports and every function (and class) keep their signatures and docstrings; function bodies
    become ``# YOUR CODE HERE`` / ``raise NotImplementedError`` (the comment in ``language``,
    ``"en"`` or ``"zh_CN"``: :data:`STUB_COMMENTS`). Any other top-level statement is part of
    the solution and is dropped. A cell with no function becomes just the stub lines.
    """
    tree = ast.parse(source)  # SyntaxError is reported by the caller with the cell number
    lines = source.splitlines()
    imports: list[str] = []
    definitions: list[list[str]] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports += lines[node.lineno - 1 : node.end_lineno]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            definitions.append(_stub_function(node, lines, language))
        elif isinstance(node, ast.ClassDef):
            definitions.append(_stub_class(node, lines, language))
    if not definitions:
        return "\n".join(imports + list(_stub_lines(language)))
    blocks = ["\n".join(imports)] if imports else []
    blocks += ["\n".join(definition) for definition in definitions]
    return "\n\n\n".join(blocks)


def student_version(nb: Any, name: str = "notebook", language: str = "en") -> Any:
    """A copy of ``nb`` for students: solutions stubbed, explanations removed, their outputs gone.

    Check cells keep their code, but lose the output of the instructor's run ("passed").
    ``language`` is that of the stubs' comment (:func:`stub_solution`).
    """
    nb = copy.deepcopy(nb)
    cells = []
    for number, cell in enumerate(nb.cells, start=1):
        tags = _tags(cell)
        if EXPLANATION_TAG in tags:
            continue
        if SOLUTION_TAG in tags:
            if cell.cell_type != "code":
                continue  # a solution written out in markdown: nothing of it is for students
            try:
                cell.source = stub_solution(cell.source, language)
            except SyntaxError as error:
                raise HandoutError(
                    f"{name}: cell {number} is tagged '{SOLUTION_TAG}' but is not plain Python "
                    f"(line {error.lineno}: {error.msg}), so it cannot be turned into a stub"
                ) from None
            cell.outputs, cell.execution_count = [], None
        elif is_check_cell(cell):
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def is_student_edition(nb: Any) -> bool:
    """Whether ``nb``'s exercises are already stubs (``# YOUR CODE HERE``, or the Chinese
    edition's ``# 在这里写你的代码``): a student edition (``notebooks/NN_*.ipynb``,
    ``notebooks/zh/NN_*.ipynb``) or a student handout, not the instructor edition."""
    return any(SOLUTION_TAG in _tags(cell) and cell.cell_type == "code"
               and any(stub in cell.source for stub in STUB_COMMENTS.values())
               for cell in nb.cells)


def check_source(path: Path, nb: Any, version: str) -> None:
    """An instructor handout must be made from the instructor edition: from a student
    edition it would be headed "Instructor version" and hold the stubs, not the solutions.
    Raises HandoutError naming the instructor edition to use instead."""
    if version != "instructor" or not is_student_edition(nb):
        return
    instead = path.parent / "solutions" / path.name
    use = (f"use the instructor edition {instead}" if instead.is_file()
           else "use the instructor edition (notebooks/solutions/NN_*.ipynb)")
    raise HandoutError(f"{path} is a student edition (its exercises are stubs, # YOUR CODE "
                       f"HERE), so its instructor handout would have no solutions: {use}")


def for_print(nb: Any) -> Any:
    """A copy without what the editions add for Colab and the tests: the setup cell, the
    "Open in Colab" badge (a remote image, which a self-contained page must not need) and the
    ``# NBVAL_CHECK_OUTPUT`` lines. A printed page can use none of them."""
    nb = copy.deepcopy(nb)
    nb.cells = [cell for cell in nb.cells if SETUP_TAG not in _tags(cell)]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = BADGE_LINE.sub("", cell.source)
        elif cell.cell_type == "code":
            cell.source = CHECK_MARKER.sub("", cell.source)
    return nb


# ---------------------------------------------------------------------------------------------
# Running a notebook
# ---------------------------------------------------------------------------------------------


def execute(nb: Any, lesson: Lesson, quick: bool, timeout: int) -> Any:
    """Run every cell of ``nb`` (in place) in a fresh kernel in the notebook's folder.

    ``quick`` sets SNNLAB_QUICK=1 for the kernel (else 0). A cell that fails or runs longer than
    ``timeout`` seconds raises HandoutError naming the cell number (counting every cell from 1,
    markdown too) and the error.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(lesson.path.parent)}})
    env = dict(os.environ, SNNLAB_QUICK="1" if quick else "0")
    env.pop("MPLBACKEND", None)  # a notebook draws with the inline backend, as in JupyterLab
    total = len(nb.cells)
    # The kernel process's own log lines (transport warnings, shutdown notes) are noise here;
    # everything a cell prints reaches its outputs through the kernel protocol instead.
    with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):
        for index, cell in enumerate(nb.cells):
            where = f"{lesson.path.name}: cell {index + 1} of {total}"
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                raise HandoutError(f"{where} failed: {error.ename}: {error.evalue}") from None
            except CellTimeoutError:
                raise HandoutError(f"{where} ran longer than the {timeout} s timeout "
                                   "(raise it with --timeout, or use --quick)") from None
            except DeadKernelError as error:
                raise HandoutError(f"{where}: the kernel died ({error})") from None
    return nb


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

# The header's look, and print rules: code wraps instead of running off the page, prompts go,
# figures and videos stay whole on one page.
HANDOUT_CSS = """
.snnlab-header { border-bottom: 2px solid #3b6ea5; margin: 0 0 1.5em 0; padding: 0.5em 0;
                 font-family: var(--jp-content-font-family); }
math[display="block"] { margin: 0.6em 0; font-size: 1.1em; }
.snnlab-header .snnlab-course { color: #3b6ea5; font-size: 0.95em; letter-spacing: 0.03em; }
.snnlab-header .snnlab-lesson { font-size: 1.6em; font-weight: 600; margin-top: 0.2em; }
.snnlab-header .snnlab-version { color: #666; font-size: 0.85em; margin-top: 0.2em; }
.jp-OutputArea-output img, .jp-RenderedHTMLCommon img { max-width: 100%; height: auto; }
.jp-OutputArea-output video { max-width: 100%; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body, main { padding: 0 !important; margin: 0 !important; }
  pre, code, .cm-editor .highlight pre, .jp-RenderedText pre {
    white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: break-word;
  }
  .jp-InputArea, .jp-InputArea-editor, .jp-OutputArea, .jp-OutputArea-output {
    overflow: visible !important;
  }
  .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  video::-webkit-media-controls { display: none !important; }
  img, video, svg, figure, .jp-RenderedImage, .jp-RenderedSVG {
    break-inside: avoid; page-break-inside: avoid;
  }
  .jp-RenderedImage img, .jp-RenderedHTMLCommon img, video { max-height: 240mm; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
}
"""

# A Chinese lesson's fonts: common CJK fonts first (Linux, macOS, Windows), so that the HTML
# shows Chinese wherever it is opened; Latin letters and symbols come from them or from the
# fonts after them. Code is monospaced, in Noto Sans Mono CJK where there is that font (a
# Chinese character two columns wide, so that printed tables stay aligned).
CJK_FONTS = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", '
             '"Microsoft YaHei", "WenQuanYi Micro Hei"')
CHINESE_CSS = f"""
:root {{
  --jp-content-font-family: {CJK_FONTS}, system-ui, -apple-system, "Segoe UI", sans-serif;
  --jp-ui-font-family: {CJK_FONTS}, system-ui, -apple-system, "Segoe UI", sans-serif;
  --jp-code-font-family: "Noto Sans Mono CJK SC", "DejaVu Sans Mono", Menlo, Consolas,
                         monospace, {CJK_FONTS};
}}
body {{ font-family: var(--jp-content-font-family); }}
/* the CJK monospaced font is taller than DejaVu's: no scroll bars on printed code and output */
@media print {{ pre {{ overflow: visible !important; }} }}
"""


CHINESE_HEADER = {"course": "snnlab：脉冲神经网络", "student": "学生版", "instructor": "教师版"}


def chinese_font_face(font_file: Path, mono_file: Path) -> str:
    """CSS that makes "Noto Sans CJK SC" the font file ``font_file``, and "Noto Sans Mono CJK
    SC" ``mono_file``: what Chromium prints a Chinese PDF with, on a machine with no Chinese
    font of its own."""
    return "".join(f'@font-face {{ font-family: "{family}"; '
                   f'src: url("{file.resolve().as_uri()}"); }}\n'
                   for family, file in (("Noto Sans CJK SC", font_file),
                                        ("Noto Sans Mono CJK SC", mono_file)))


def is_chinese(nb: Any) -> bool:
    """True when the lesson's text is Chinese (a markdown cell has a CJK character)."""
    return any(cell.cell_type == "markdown" and re.search(r"[\u4e00-\u9fff]", cell.source)
               for cell in nb.cells)


HANDOUT_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_css -%}<style type="text/css">{{ resources.snnlab.css }}</style>{%- endblock -%}
{%- block body_header -%}
{{ super() }}
<header class="snnlab-header">
<div class="snnlab-course">{{ resources.snnlab.course | e }}</div>
<div class="snnlab-lesson">{{ resources.snnlab.lesson | e }}</div>
<div class="snnlab-version">{{ resources.snnlab.version | e }}</div>
</header>
{%- endblock body_header -%}
"""


def _without_widget_views(nb: Any) -> Any:
    """A copy without live-widget outputs and saved widget state.

    Outside a running kernel a widget cannot draw (JupyterLab shows "model not found", HTML
    nothing); the course's panels also emit a static figure as a plain output, and that is
    what the handout shows. Running the cell brings the live panel back.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    return nb


# Code in markdown (fenced blocks, inline spans) is left alone; math is $...$ or $$...$$.
MARKDOWN_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", flags=re.DOTALL)
MARKDOWN_MATH = re.compile(
    r"(?<![\\$])\$\$(?P<display>.+?)\$\$"  # $$ display $$
    r"|(?<![\\$\w])\$(?=\S)(?P<inline>(?:\\\$|[^$])+?)(?<=\S)\$(?![$\w])",  # $inline$
    flags=re.DOTALL,
)


def _math_as_mathml(nb: Any) -> tuple[Any, dict[str, str]]:
    """Markdown math as MathML, which browsers draw with no script and no network.

    Each formula is swapped for a plain placeholder word before nbconvert's markdown pass (so
    markdown cannot touch it) and the MathML goes in after. Returns the notebook and the map
    from placeholder to MathML. A formula that cannot be converted stays as TeX, with a warning.
    """
    try:
        from latex2mathml.converter import convert
    except ImportError:
        raise HandoutError("HTML and PDF handouts need latex2mathml (for the equations): "
                           "pip install -e \".[handout]\"") from None

    nb = copy.deepcopy(nb)
    formulas: dict[str, str] = {}

    def swap(match: re.Match) -> str:
        display = match.group("display") is not None
        tex = match.group("display") if display else match.group("inline")
        tex = re.sub(r"\\(begin|end)\{aligned\}", r"\\\1{align*}", tex.strip())
        try:
            mathml = convert(tex, display="block" if display else "inline")
        except Exception as error:  # latex2mathml raises many kinds; keep the TeX readable
            print(tr("warning: could not typeset ${tex}$ ({type}: {error})").format(
                tex=tex, type=type(error).__name__, error=error), file=sys.stderr)
            return match.group(0)
        key = f"snnlabmath{len(formulas)}x"
        formulas[key] = mathml
        return key

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts = MARKDOWN_CODE.split(cell.source)  # odd indices are code
            parts[::2] = [MARKDOWN_MATH.sub(swap, text) for text in parts[::2]]
            cell.source = "".join(parts)
    return nb, formulas


def _embed_local_media(page: str, base_dir: Path) -> str:
    """Inline every <img>/<video>/<source> whose src is a local file, as a data: URI."""

    def inline(match: re.Match) -> str:
        src = html.unescape(match.group(3))
        if re.match(r"^(data:|https?:|//)", src):
            return match.group(0)
        file = (base_dir / src.split("?")[0].split("#")[0]).resolve()
        if not file.is_file():
            raise HandoutError(f"the notebook shows {src!r}, but {file} does not exist")
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        data = base64.b64encode(file.read_bytes()).decode("ascii")
        return f"{match.group(1)}{match.group(2)}data:{kind};base64,{data}{match.group(2)}"

    return re.sub(r"(<(?:img|video|source)\b[^>]*?\bsrc=)([\"'])(.*?)\2", inline, page)


def _first_frame_png(video: bytes) -> bytes:
    """The first frame of a video, as PNG bytes (decoded with the ffmpeg from imageio-ffmpeg)."""
    import imageio_ffmpeg
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="snnlab-video-") as scratch:
        clip = Path(scratch) / "clip"
        clip.write_bytes(video)
        frames = imageio_ffmpeg.read_frames(str(clip))
        meta = next(frames)
        width, height = meta["size"]
        frame = next(frames)
        frames.close()
    picture = Image.frombytes("RGB", (width, height), frame)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _add_video_posters(page: str) -> str:
    """Give every embedded video without a poster its first frame as one: a printed page cannot
    play a video, and without a poster Chromium prints a black box."""

    def add_poster(match: re.Match) -> str:
        tag, body = match.group(1), match.group(2)
        if re.search(r"\bposter=", tag):
            return match.group(0)
        data = re.search(r"src=([\"'])data:video/[\w.+-]+;base64,([A-Za-z0-9+/=\s]+)\1",
                         tag + body)
        if not data:
            return match.group(0)
        try:
            poster = _first_frame_png(base64.b64decode(data.group(2)))
        except (StopIteration, OSError, RuntimeError):  # not decodable: keep the video as is
            return match.group(0)
        uri = "data:image/png;base64," + base64.b64encode(poster).decode("ascii")
        return f'{tag[:-1]} poster="{uri}">{body}'

    return re.sub(r"(<video\b[^>]*>)(.*?</video>)", add_poster, page, flags=re.DOTALL)


def to_html(nb: Any, lesson: Lesson, version: str,
            font_files: tuple[Path, Path] | None = None) -> str:
    """A self-contained HTML page: the course header, the lesson, images and videos inline.
    A Chinese lesson gets a font stack of common CJK fonts, and with ``font_files`` (for
    printing) those font files as Noto Sans CJK SC and its monospaced sister."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        template_file="snnlab_handout.html.j2",
        extra_loaders=[DictLoader({"snnlab_handout.html.j2": HANDOUT_TEMPLATE})],
        embed_images=True,
    )
    css, course, heading = HANDOUT_CSS, COURSE_TITLE, lesson.heading
    label = f"{version.capitalize()} version"
    if is_chinese(nb):  # the header in the lesson's language
        css += CHINESE_CSS + ("" if font_files is None else chinese_font_face(*font_files))
        course, label = CHINESE_HEADER["course"], CHINESE_HEADER[version]
        if lesson.number:
            heading = f"第 {lesson.number} 课：{lesson.title}"
    resources = {
        "metadata": {"name": f"{heading} | snnlab", "path": str(lesson.path.parent)},
        "snnlab": {"course": course, "lesson": heading, "css": css, "version": label},
    }
    nb, formulas = _math_as_mathml(nb)
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    # The closing "x" keeps "snnlabmath1x" from matching inside "snnlabmath12x".
    for key, mathml in formulas.items():
        page = page.replace(key, mathml)
    return _add_video_posters(_embed_local_media(page, lesson.path.parent))


# ---------------------------------------------------------------------------------------------
# PDF, printed by headless Chromium
# ---------------------------------------------------------------------------------------------


def find_chromium() -> str:
    """The Chromium (or Chrome) to print with: $SNNLAB_CHROMIUM, $CHROME_PATH, then the PATH."""
    for variable in CHROMIUM_ENV_VARS:
        value = os.environ.get(variable)
        if value:
            found = shutil.which(value)
            if not found:
                raise HandoutError(f"{variable}={value!r} is not an executable browser")
            return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise HandoutError("PDF export needs Chromium, which was not found: install it "
                       "(Debian/Ubuntu: apt-get install chromium) or set SNNLAB_CHROMIUM "
                       "to the browser's path")


def html_to_pdf(html_file: Path, pdf_file: Path, chromium: str, timeout: int = 180) -> None:
    """Print ``html_file`` to ``pdf_file`` (A4, no browser header/footer) with headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="snnlab-chromium-") as profile:
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw", "--virtual-time-budget=20000",
            f"--print-to-pdf={pdf_file}", html_file.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HandoutError(f"Chromium took longer than {timeout} s to print "
                               f"{html_file.name}") from None
    if done.returncode != 0 or not pdf_file.is_file() or pdf_file.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise HandoutError(f"Chromium could not print {html_file.name} "
                           f"(exit code {done.returncode}): {last}")
    with open(pdf_file, "rb") as file:  # a whole PDF ends with %%EOF; a cut one does not
        file.seek(max(0, pdf_file.stat().st_size - 1024))
        if b"%%EOF" not in file.read():
            raise HandoutError(f"Chromium's PDF of {html_file.name} is cut short "
                               f"({pdf_file.stat().st_size} bytes, no end): is the disk full?")


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def all_lessons(root: Path) -> list[Path]:
    """The course's lessons, the instructor edition (the source of both): notebooks/solutions/
    NN_*.ipynb under ``root`` (the current folder)."""
    folder = root / "notebooks" / "solutions"
    lessons = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not lessons:
        raise HandoutError(f"--all found no lessons: expected {folder}/NN_*.ipynb; run it from "
                           "the snnlab repository's top folder")
    return lessons


def read(path: Path) -> Any:
    """The notebook at ``path``; HandoutError naming it if it is missing or unreadable."""
    import nbformat

    if not path.is_file():
        raise HandoutError(f"{path}: no such notebook")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # a broken file: say which and why, without a deep traceback
        raise HandoutError(f"{path}: not a readable notebook ({error})") from None


def build(path: Path, version: str, to: str, out: Path, execute_first: bool = False,
          quick: bool = False, timeout: int = 600, chromium: str | None = None) -> Path:
    """Build one handout and return the file written: ``out/<stem>-<version>.<to>``.

    The file is written whole or not at all (``snnlab.files``): a write that fails (a full
    disk) raises HandoutError naming the file and why, and leaves any earlier handout there
    as it was."""
    import nbformat

    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    if to not in FORMATS:
        raise ValueError(f"to must be one of {FORMATS}, got {to!r}")
    nb = read(path)
    check_source(path, nb, version)
    lesson = lesson_info(path.resolve(), nb)
    if execute_first:
        execute(nb, lesson, quick=quick, timeout=timeout)
    if version == "student":
        nb = student_version(nb, name=path.name)
    nb = _without_widget_views(nb)  # saved without a kernel, a live widget only shows an error
    if to != "ipynb":  # (a notebook handout keeps its setup cell: it may be opened in Colab)
        nb = for_print(nb)

    # a Chinese PDF is printed with the Noto CJK font files that mplfonts installs
    font_files = (fonts.chinese_font_file(), fonts.chinese_font_file(fonts.CHINESE_MONO_FONT_FILE)
                  ) if to == "pdf" and is_chinese(nb) else None
    page = None if to == "ipynb" else to_html(nb, lesson, version, font_files)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{path.stem}-{version}.{to}"
    try:
        with files.replacing(target) as temp:  # whole or not at all: never half a handout
            if to == "ipynb":
                nbformat.write(nb, str(temp))
            elif to == "html":
                temp.write_text(page, encoding="utf-8")
            else:
                with tempfile.TemporaryDirectory(prefix="snnlab-handout-") as scratch:
                    html_file = Path(scratch) / f"{path.stem}.html"
                    html_file.write_text(page, encoding="utf-8")
                    html_to_pdf(html_file, temp, chromium or find_chromium())
    except OSError as error:  # a full disk, a folder turned read-only
        raise HandoutError(f"{path.name}: {error.strerror or error}") from None
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK",
                        help="lesson notebooks to export")
    parser.add_argument("--all", action="store_true",
                        help="export every lesson, notebooks/solutions/NN_*.ipynb under the "
                             "current folder")
    parser.add_argument("--version", choices=VERSIONS, required=True,
                        help="student: solutions become stubs; instructor: everything")
    parser.add_argument("--to", choices=FORMATS, required=True, help="output format")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder for the handouts (created if missing)")
    parser.add_argument("--execute", action="store_true",
                        help="run each notebook first, so every output is fresh")
    parser.add_argument("--quick", action="store_true",
                        help="with --execute: run in quick mode (SNNLAB_QUICK=1)")
    parser.add_argument("--timeout", type=int, default=600, metavar="SECONDS",
                        help="with --execute: longest time one cell may run (default 600)")


def main(args: argparse.Namespace) -> int:
    """Run ``python -m snnlab handout ...``; return the exit status.

    Mistakes in what was asked for (a missing notebook, a bad combination of options, an
    ``--out`` that is a file, no Chromium for PDF) raise ValueError or FileNotFoundError before
    any work, which ``python -m snnlab`` prints as one line (exit status 2). A notebook that
    fails to build is reported and the others are still built (exit status 1).
    """
    if args.all and args.notebooks:
        raise ValueError("give either NOTEBOOK files or --all, not both")
    if args.quick and not args.execute:
        raise ValueError("--quick only applies with --execute (it sets how the notebooks are run)")
    if args.timeout <= 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.out.exists() and not args.out.is_dir():
        raise NotADirectoryError(f"--out {args.out} is a file; give a folder for the handouts")
    try:
        notebooks = all_lessons(Path.cwd()) if args.all else list(args.notebooks)
    except HandoutError as error:
        raise FileNotFoundError(str(error)) from None
    if not notebooks:
        raise ValueError("no notebooks given: name NOTEBOOK files or use --all")
    for path in notebooks:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such notebook"
                                    + (" (that is a folder)" if path.is_dir() else ""))
    for path in notebooks:  # every source checked before the first handout is built
        try:
            nb = read(path)
        except HandoutError:
            continue  # build says so for this one, and builds the others
        try:
            check_source(path, nb, args.version)
        except HandoutError as error:
            raise ValueError(str(error)) from None
    try:
        chromium = find_chromium() if args.to == "pdf" else None  # fail before any slow work
    except HandoutError as error:
        raise FileNotFoundError(str(error)) from None
    failures = 0
    for path in notebooks:
        try:
            target = build(path, args.version, args.to, args.out, execute_first=args.execute,
                           quick=args.quick, timeout=args.timeout, chromium=chromium)
        except HandoutError as error:
            print(tr("error: {error}").format(error=error), file=sys.stderr)
            failures += 1
            continue
        print(tr("wrote {file} ({size} MB)").format(file=target,
                                                    size=f"{target.stat().st_size / 1e6:.2f}"))
    if failures:
        print(tr("{failures} of {count} handouts failed").format(failures=failures,
                                                                 count=len(notebooks)),
              file=sys.stderr)
    return 1 if failures else 0
