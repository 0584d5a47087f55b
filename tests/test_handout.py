"""Handouts: stripping solutions, running notebooks, self-contained HTML, PDF through Chromium.

Most tests use tests/fixtures/01_toy_lesson.ipynb, a small notebook in the course's format with
its own miniature checker. The last tests run the stripping on every real lesson in notebooks/.
"""

from __future__ import annotations

import ast
import base64
import errno
import inspect
import io
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from snnlab import __main__ as cli
from snnlab.course import editions, handout

FIXTURES = Path(__file__).parent / "fixtures"
TOY = FIXTURES / "01_toy_lesson.ipynb"
REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))


def run_cli(*argv: str) -> int:
    return cli.main(["handout", *argv])


def tagged(nb, tag: str) -> list:
    return [cell for cell in nb.cells if tag in cell.get("metadata", {}).get("tags", [])]


def solution_body_lines(source: str) -> list[str]:
    """The lines of every function body in ``source`` after its docstring: the solution itself."""
    lines = source.splitlines()
    body: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            statements = node.body
            if ast.get_docstring(node) is not None:
                statements = statements[1:]
            for statement in statements:
                body += lines[statement.lineno - 1 : statement.end_lineno]
    return [line.strip() for line in body if line.strip()]


def notebook_text(nb) -> str:
    return nbformat.writes(nb)


class PageReader(HTMLParser):
    """Every element's attributes, by tag, and the page's text as a reader sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: dict[str, list[dict]] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.setdefault(tag, []).append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def read_html(page: str) -> tuple[dict[str, list[dict]], str]:
    reader = PageReader()
    reader.feed(page)
    reader.close()
    return reader.elements, "".join(reader.text)


def parse_header(page: str) -> list[str]:
    """The three lines of the handout's header: course, lesson, version."""
    start = page.index('<header class="snnlab-header">')
    _, text = read_html(page[start : page.index("</header>", start)])
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def executed_toy(tmp_path_factory) -> Path:
    """The toy lesson run once in quick mode, saved with its media beside it."""
    folder = tmp_path_factory.mktemp("executed")
    for media in ("toy_clip.mp4", "toy_spikes.png"):
        shutil.copy(FIXTURES / media, folder / media)
    nb = nbformat.read(TOY, as_version=4)
    target = folder / TOY.name
    handout.execute(nb, handout.lesson_info(target, nb), quick=True, timeout=120)
    nbformat.write(nb, target)
    return target


def as_edition(executed: Path, folder: Path) -> Path:
    """The executed toy lesson as the editions make a lesson: a Colab badge under its title,
    the Colab setup cell, and nbval's marker on a cell; written into ``folder`` with its media."""
    for media in ("toy_clip.mp4", "toy_spikes.png"):
        shutil.copy(FIXTURES / media, folder / media)
    nb = editions._with_colab(nbformat.read(executed, as_version=4),
                              "https://github.com/example-org/snnlab", "notebooks/01_toy.ipynb")
    marked = next(c for c in nb["cells"] if c["cell_type"] == "code"
                  and c["source"].startswith("steps = range(30)"))
    marked["source"] = "# NBVAL_CHECK_OUTPUT\n" + marked["source"]
    target = folder / executed.name
    nbformat.write(nbformat.from_dict(nb), target)
    return target


# ---------------------------------------------------------------------------------------------
# Stubs
# ---------------------------------------------------------------------------------------------


def test_stub_keeps_signature_and_docstring_and_raises_not_implemented():
    source = '''import math


def spike_time(current: float, tau: float = 1.0, *, threshold: float = 1.0) -> float:
    """When an RC membrane charged by `current` crosses `threshold`.

    t = tau * ln(I / (I - threshold))
    """
    ratio = current / (current - threshold)
    return tau * math.log(ratio)
'''
    solution, student = {}, {}
    exec(source, solution)
    stub = handout.stub_solution(source)
    exec(stub, student)
    assert inspect.signature(student["spike_time"]) == inspect.signature(solution["spike_time"])
    assert student["spike_time"].__doc__ == solution["spike_time"].__doc__
    assert "# YOUR CODE HERE" in stub and "import math" in stub
    assert "ratio" not in stub and "math.log" not in stub
    with pytest.raises(NotImplementedError):
        student["spike_time"](2.0)


def test_stub_handles_decorators_one_liners_classes_and_bare_statements():
    one_liner = handout.stub_solution("@staticmethod\ndef f(x, *, y=2) -> int: return x + y\n")
    assert one_liner.splitlines()[:2] == ["@staticmethod", "def f(x, *, y=2) -> int:"]
    assert "x + y" not in one_liner

    cls = handout.stub_solution('''class Spike:
    """Heaviside forward, surrogate backward."""
    slope = 25.0

    def forward(self, x):
        return (x > 0) * 1.0

    def backward(self, x, grad):
        """grad / (slope |x| + 1)^2"""
        return grad / (self.slope * abs(x) + 1) ** 2
''')
    namespace: dict = {}
    exec(cls, namespace)
    spike = namespace["Spike"]()
    assert spike.slope == 25.0 and spike.backward.__doc__ == "grad / (slope |x| + 1)^2"
    for method, args in ((spike.forward, (1.0,)), (spike.backward, (1.0, 1.0))):
        with pytest.raises(NotImplementedError):
            method(*args)
    assert "(x > 0)" not in cls and "** 2" not in cls

    bare = handout.stub_solution("beta = math.exp(-dt / tau)\n")
    assert bare == "# YOUR CODE HERE\nraise NotImplementedError"


def test_a_solution_cell_that_is_not_python_is_a_clear_error():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%timeit f(\n")])
    nb.cells[0].metadata["tags"] = ["solution"]
    with pytest.raises(handout.HandoutError, match=r"lesson.ipynb: cell 1 is tagged 'solution'"):
        handout.student_version(nb, name="lesson.ipynb")


# ---------------------------------------------------------------------------------------------
# The student version of the toy lesson
# ---------------------------------------------------------------------------------------------


def test_student_version_drops_every_solution_line_and_explanation():
    nb = nbformat.read(TOY, as_version=4)
    solutions = tagged(nb, "solution")
    assert len(solutions) == 2
    secret = [line for cell in solutions for line in solution_body_lines(cell.source)]
    assert "return min(twice_as_many, 1.0)" in secret  # the helper found the real bodies

    student = handout.student_version(nb)
    text = notebook_text(student)
    for line in secret:
        assert line not in text
    for cell in tagged(nb, "solution-explanation"):
        assert cell.source not in text
    assert not tagged(student, "solution-explanation")
    assert len(student.cells) == len(nb.cells) - len(tagged(nb, "solution-explanation"))


def test_student_version_keeps_every_prompt_and_checker():
    nb = nbformat.read(TOY, as_version=4)
    student = handout.student_version(nb)
    sources = [cell.source for cell in student.cells]
    prompts = [c.source for c in nb.cells if c.cell_type == "markdown"
               and "solution-explanation" not in c.metadata.get("tags", [])]
    checkers = [c.source for c in nb.cells if handout.is_check_cell(c)]
    assert len(checkers) == 2 and len(prompts) == 6
    for source in prompts + checkers:
        assert source in sources


def test_student_checker_on_the_stub_says_not_implemented(tmp_path):
    """Run the stripped toy lesson: the checkers print "not implemented yet", nothing raises."""
    nb = handout.student_version(nbformat.read(TOY, as_version=4))
    for media in ("toy_clip.mp4", "toy_spikes.png"):
        shutil.copy(FIXTURES / media, tmp_path / media)
    handout.execute(nb, handout.lesson_info(tmp_path / TOY.name, nb), quick=True, timeout=120)
    check_cells = [cell for cell in nb.cells if handout.is_check_cell(cell)]
    for cell in check_cells:
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "not implemented yet" in printed
    errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert errors == []


def test_execute_runs_in_quick_mode_and_student_outputs_come_from_that_run(executed_toy):
    nb = nbformat.read(executed_toy, as_version=4)
    setup = nb.cells[1]
    assert [o.text for o in setup.outputs if o.output_type == "stream"] == ["quick mode\n"]
    instructor_checks = [c for c in nb.cells if handout.is_check_cell(c)]
    assert all("passed" in "".join(o.get("text", "") for o in c.outputs)
               for c in instructor_checks)

    student = handout.student_version(nb)
    for cell in student.cells:
        if "solution" in cell.metadata.get("tags", []) or handout.is_check_cell(cell):
            assert cell.outputs == [] and cell.execution_count is None
    trace = next(c for c in student.cells if c.source.startswith("steps = range(30)"))
    assert "image/png" in trace.outputs[0].data  # the figure of the real run stays


def test_a_failing_cell_fails_with_its_number_and_error(tmp_path):
    cells = [nbformat.v4.new_markdown_cell("# Broken"), nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_code_cell("raise ValueError('beta must be in (0, 1)')"),
             nbformat.v4.new_code_cell("y = 2")]
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "07_broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(handout.HandoutError) as error:
        handout.build(path, "instructor", "ipynb", tmp_path / "out", execute_first=True,
                      timeout=60)
    assert str(error.value) == ("07_broken.ipynb: cell 3 of 4 failed: "
                                "ValueError: beta must be in (0, 1)")
    assert not (tmp_path / "out" / "07_broken-instructor.ipynb").exists()


def test_a_slow_cell_fails_with_the_timeout(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; time.sleep(30)")])
    path = tmp_path / "08_slow.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(handout.HandoutError, match=r"08_slow.ipynb: cell 1 of 1 ran longer than "
                                                   r"the 2 s timeout"):
        handout.build(path, "instructor", "ipynb", tmp_path, execute_first=True, timeout=2)


# ---------------------------------------------------------------------------------------------
# Lesson number and title, math
# ---------------------------------------------------------------------------------------------


def test_lesson_number_and_title():
    def lesson(name: str, *markdown: str) -> handout.Lesson:
        cells = [nbformat.v4.new_code_cell("x = 1")]
        cells += [nbformat.v4.new_markdown_cell(text) for text in markdown]
        return handout.lesson_info(Path(name), nbformat.v4.new_notebook(cells=cells))

    assert lesson("02_lif_neuron.ipynb", "Intro text", "# The LIF neuron\n\n## Part 1").heading \
        == "Lesson 02: The LIF neuron"
    assert lesson("03_x.ipynb", "## Lesson 3: Surrogate gradients").title == "Surrogate gradients"
    untitled = lesson("scratch.ipynb", "no heading here")
    assert (untitled.number, untitled.heading) == (None, "scratch")


def test_markdown_math_becomes_mathml_but_code_and_prices_do_not():
    source = ("A pixel costs $5 and a spike $6. Here $\\beta = 0.8$ and `$x$ in code`.\n\n"
              "$$\nU[t] = \\beta U[t-1] + I[t]\n$$\n\n```\nprice = $3$\n```")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source)])
    converted, formulas = handout._math_as_mathml(nb)
    assert len(formulas) == 2
    inline, display = formulas.values()
    assert 'display="inline"' in inline and "&#x003B2;" in inline  # beta
    assert 'display="block"' in display
    assert "$5 and a spike $6" in converted.cells[0].source
    assert "`$x$ in code`" in converted.cells[0].source and "price = $3$" in source


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------


def expected_media(nb) -> tuple[int, int]:
    """(images, videos) the handout should show: image outputs (live widget views excluded,
    their static figure counts), markdown images, and <video> tags in HTML outputs."""
    images = videos = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            images += cell.source.count("![")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if handout.WIDGET_VIEW in data:
                continue
            images += any(kind in data for kind in ("image/png", "image/jpeg", "image/gif"))
            videos += data.get("text/html", "").count("<video")
    return images, videos


@pytest.mark.parametrize("version", ["student", "instructor"])
def test_html_is_self_contained_with_every_figure_and_video(executed_toy, tmp_path, version):
    target = handout.build(executed_toy, version, "html", tmp_path)
    assert target == tmp_path / f"01_toy_lesson-{version}.html"
    page = target.read_text(encoding="utf-8")
    elements, text = read_html(page)

    nb = nbformat.read(executed_toy, as_version=4)
    shown = handout.student_version(nb) if version == "student" else nb
    images, videos = expected_media(shown)
    assert (images, videos) == (3, 1)  # markdown diagram, trace plot, the panel's static figure
    assert len(elements.get("img", [])) == images
    assert len(elements.get("video", [])) == videos
    for element in elements["img"] + elements["video"]:
        assert element["src"].startswith("data:")
    assert elements["video"][0]["poster"].startswith("data:image/png;base64,")
    external = [e for tag in ("script", "link", "img", "video", "source") for e in
                elements.get(tag, []) if (e.get("src") or e.get("href") or "").startswith("http")]
    assert external == []

    header = parse_header(page)
    assert header == ["snnlab: Spiking Neural Networks",
                      "Lesson 01: Toy lesson: firing rates and leaks", f"{version.title()} version"]
    assert "<math" in page and "$\\beta" not in text
    widget_views = [e for e in elements["div"] if "jupyter-widgets" in e.get("class", "")]
    assert widget_views == [] and "VBox(children" not in text  # no dead widget placeholder
    secret = [line for cell in tagged(nb, "solution") for line in solution_body_lines(cell.source)]
    shown = [line for line in secret if line in text]
    if version == "student":
        assert shown == [] and "YOUR CODE HERE" in text
        assert "A worked explanation in code" not in text
    else:
        assert shown == secret and "A worked explanation in code" in text


@pytest.mark.parametrize("version", ["student", "instructor"])
def test_html_leaves_out_the_colab_badge_setup_cell_and_nbval_markers(executed_toy, tmp_path,
                                                                       version):
    lesson = as_edition(executed_toy, tmp_path)
    source = lesson.read_text()
    assert "colab-badge.svg" in source and "google.colab" in source and "NBVAL" in source
    page = handout.build(lesson, version, "html", tmp_path / "out").read_text(encoding="utf-8")
    elements, text = read_html(page)
    for word in ("Open in Colab", "colab-badge", "google.colab", "NBVAL_CHECK_OUTPUT"):
        assert word not in page
    remote = [e for tag in ("img", "video", "source", "script", "link") for e in
              elements.get(tag, []) if not (e.get("src") or e.get("href") or "data:")
              .startswith("data:")]
    assert remote == []  # self-contained: no image the page must fetch
    assert "Toy lesson: firing rates and leaks" in text  # the title cell stays, badge gone
    assert "steps = range(30)" in text  # the marked cell stays, marker gone
    assert len(elements["img"]) == 3  # every figure of test_html_is_self_contained_...


def test_a_notebook_handout_keeps_its_colab_setup_cell(executed_toy, tmp_path):
    """A notebook handout may be opened in Colab, where the setup cell installs the course."""
    lesson = as_edition(executed_toy, tmp_path)
    nb = nbformat.read(handout.build(lesson, "student", "ipynb", tmp_path / "out"), as_version=4)
    assert "colab-setup" in nb.cells[1].metadata["tags"]


def test_an_instructor_handout_of_a_student_edition_is_refused(tmp_path, capsys):
    """The instructor handout of notebooks/02 would be headed "Instructor version" and hold
    the stubs; the message names the instructor edition instead."""
    student = REPO / "notebooks" / "02_lif_neuron.ipynb"
    out = tmp_path / "handouts"
    assert run_cli(str(student), str(TOY), "--version", "instructor", "--to", "html",
                   "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (f"{student} is a student edition (its exercises are stubs, # YOUR CODE HERE), so "
            "its instructor handout would have no solutions: use the instructor edition "
            f"{REPO / 'notebooks' / 'solutions' / '02_lif_neuron.ipynb'}") in err
    assert not out.exists()  # refused before the toy lesson, named first, was built
    with pytest.raises(handout.HandoutError, match="is a student edition"):
        handout.build(student, "instructor", "html", out)
    # its student handout, and the instructor edition's instructor handout, are fine
    assert run_cli(str(student), "--version", "student", "--to", "ipynb", "--out", str(out)) == 0
    assert handout.is_student_edition(nbformat.read(student, as_version=4))
    assert not handout.is_student_edition(
        nbformat.read(REPO / "notebooks" / "solutions" / "02_lif_neuron.ipynb", as_version=4))


def test_cli_builds_an_executed_student_handout(tmp_path, capsys):
    for media in ("toy_clip.mp4", "toy_spikes.png"):
        shutil.copy(FIXTURES / media, tmp_path / media)
    shutil.copy(TOY, tmp_path / TOY.name)
    code = run_cli(str(tmp_path / TOY.name), "--version", "student", "--to", "ipynb",
                   "--out", str(tmp_path / "out"), "--execute", "--quick")
    assert code == 0
    assert f"wrote {tmp_path / 'out' / '01_toy_lesson-student.ipynb'}" in capsys.readouterr().out
    nb = nbformat.read(tmp_path / "out" / "01_toy_lesson-student.ipynb", as_version=4)
    assert "raise NotImplementedError" in nb.cells[3].source
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    panel = nb.cells[-1]  # the explorer: its static figure stays, the dead live widget goes
    assert [list(o.data) for o in panel.outputs] == [["image/png", "text/plain"]]
    assert "widgets" not in nb.metadata


def test_cli_all_builds_every_numbered_lesson_from_the_current_folder(tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.chdir(tmp_path)
    assert run_cli("--all", "--version", "student", "--to", "ipynb", "--out", "handouts") == 2
    assert "--all found no lessons" in capsys.readouterr().err

    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    for name in ("00_start_here.ipynb", "01_toy_lesson.ipynb", "scratch.ipynb"):
        shutil.copy(TOY, tmp_path / "notebooks" / "solutions" / name)
    assert run_cli("--all", "--version", "student", "--to", "ipynb", "--out", "handouts") == 0
    built = sorted(p.name for p in (tmp_path / "handouts").iterdir())
    assert built == ["00_start_here-student.ipynb", "01_toy_lesson-student.ipynb"]


def test_cli_rejects_bad_combinations(tmp_path, capsys):
    out = str(tmp_path)
    assert run_cli(str(TOY), "--version", "student", "--to", "html", "--out", out, "--quick") == 2
    assert "--quick only applies with --execute" in capsys.readouterr().err
    assert run_cli(str(TOY), "--all", "--version", "student", "--to", "html", "--out", out) == 2
    assert "either NOTEBOOK files or --all" in capsys.readouterr().err
    assert run_cli("--version", "student", "--to", "html", "--out", out) == 2
    assert "no notebooks given" in capsys.readouterr().err
    missing = tmp_path / "nope.ipynb"
    assert run_cli(str(missing), "--version", "student", "--to", "html", "--out", out) == 2
    assert f"error: {missing}: no such notebook" in capsys.readouterr().err
    with pytest.raises(ValueError, match="version must be one of"):
        handout.build(TOY, "teacher", "html", tmp_path)


def test_pdf_without_chromium_fails_with_one_line_saying_what_to_install(tmp_path, monkeypatch,
                                                                         capsys):
    for variable in handout.CHROMIUM_ENV_VARS:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert run_cli(str(TOY), "--version", "student", "--to", "pdf", "--out", str(tmp_path)) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "apt-get install chromium" in message

    monkeypatch.setenv("SNNLAB_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(handout.HandoutError, match="SNNLAB_CHROMIUM="):
        handout.find_chromium()
    fake = tmp_path / "google-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.delenv("SNNLAB_CHROMIUM")
    assert handout.find_chromium() == str(fake)


def _disk_full_after(limit: int):
    """A writer that stores ``limit`` bytes of what it is given, then fails as a full disk."""
    def write(target, text):
        Path(target).write_bytes(text.encode()[:limit])
        raise OSError(errno.ENOSPC, "No space left on device")
    return write


@pytest.mark.parametrize("to", ["ipynb", "html"])
def test_a_full_disk_leaves_no_partial_handout_and_says_so(tmp_path, monkeypatch, capsys, to):
    out = tmp_path / "out"
    out.mkdir()
    target = out / f"01_toy_lesson-student.{to}"
    target.write_text("the handout built yesterday")
    full = _disk_full_after(1000)
    if to == "ipynb":
        monkeypatch.setattr(nbformat, "write", lambda nb, path: full(path, nbformat.writes(nb)))
    else:
        real_write_text = Path.write_text
        monkeypatch.setattr(Path, "write_text", lambda self, text, encoding=None: (
            full(self, text) if self.parent == out else real_write_text(self, text, encoding)))
    assert run_cli(str(TOY), "--version", "student", "--to", to, "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert (f"error: 01_toy_lesson.ipynb: could not write {str(target)!r} (it was left as it "
            "was): the disk is full (No space left on device; ") in err
    assert "1 of 1 handouts failed" in err
    assert [p.name for p in out.iterdir()] == [target.name]  # no partial file beside it
    assert target.read_text() == "the handout built yesterday"


def test_a_pdf_that_chromium_cut_short_is_not_kept(tmp_path, monkeypatch, capsys):
    """On a full disk Chromium may exit 0 with half a PDF: one without its %%EOF end."""
    fake = tmp_path / "chromium"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do case "$a" in --print-to-pdf=*) '
                    'printf "%%PDF-1.4 half a page" > "${a#--print-to-pdf=}";; esac; done\n')
    fake.chmod(0o755)
    monkeypatch.setenv("SNNLAB_CHROMIUM", str(fake))
    out = tmp_path / "out"
    assert run_cli(str(TOY), "--version", "student", "--to", "pdf", "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert ("error: Chromium's PDF of 01_toy_lesson.html is cut short (20 bytes, no end): is "
            "the disk full?") in err
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# PDF (needs Chromium and poppler-utils)
# ---------------------------------------------------------------------------------------------


def test_pdf_page_one_is_not_blank_and_long_code_lines_wrap(executed_toy, tmp_path):
    try:
        handout.find_chromium()
    except handout.HandoutError as error:
        pytest.skip(str(error))
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("pdftoppm/pdftotext not found: apt-get install poppler-utils")

    target = handout.build(as_edition(executed_toy, tmp_path), "student", "pdf", tmp_path)
    assert target.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(target),
                    str(tmp_path / "page")], check=True, timeout=60)
    page = Image.open(next(tmp_path.glob("page-*1.png"))).convert("L")
    dark = sum(page.histogram()[:200]) / (page.width * page.height)
    assert 0.01 < dark < 0.5  # ink on the page, not a blank (or black) sheet

    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout
    assert "Lesson 01: Toy lesson: firing rates and leaks" in text
    # The longest code line of the toy lesson ends far past the page edge unless it wraps.
    assert "then run this check again" in text
    assert "twice_as_many" not in text and "YOUR CODE HERE" in text
    assert "Colab" not in text and "NBVAL" not in text  # no setup cell, no marker


# ---------------------------------------------------------------------------------------------
# The real lessons
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_real_lesson_strips_into_a_student_version(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    lesson = handout.lesson_info(path, nb)
    assert lesson.number == path.name[:2] and lesson.title != path.stem  # it has a heading
    student = handout.student_version(nb, name=path.name)
    text = notebook_text(student)
    # a line the lesson also shows outside its solutions (say `loss.backward()`) is no leak
    public = "\n".join(c.source for c in nb.cells if not {"solution", "solution-explanation"}
                       & set(c.metadata.get("tags", [])))
    for cell in tagged(nb, "solution"):
        for line in solution_body_lines(cell.source):
            assert line in public or line not in text, (
                f"{path.name}: solution line left for students: {line}")
    stubs = tagged(student, "solution")
    for cell in stubs:
        compile(cell.source, f"{path.name} stub", "exec")
        assert "raise NotImplementedError" in cell.source
    checkers = [c.source for c in nb.cells if handout.is_check_cell(c)]
    assert checkers == [c.source for c in student.cells if handout.is_check_cell(c)]

    page = handout.build(path, "student", "html", tmp_path).read_text("utf-8")
    for word in ("colab-badge", "google.colab", "NBVAL_CHECK_OUTPUT"):
        assert word not in page, f"{path.name}: {word} in the student HTML"
    _, text = read_html(page)
    assert f"Lesson {lesson.number}: {lesson.title}" in text
    shown = [line for c in tagged(nb, "solution") for line in solution_body_lines(c.source)
             if line in text and line not in public]
    assert shown == [], f"{path.name}: solution lines in the student HTML: {shown}"


def test_videos_get_their_first_frame_as_poster_for_print():
    data = base64.b64encode((FIXTURES / "toy_clip.mp4").read_bytes()).decode("ascii")
    page = ('<p>before</p><video controls autoplay loop muted>'
            f'<source type="video/mp4" src="data:video/mp4;base64,{data}"></video>'
            '<video poster="data:image/png;base64,AAAA" src="data:video/mp4;base64,AAAA"></video>')
    elements, _ = read_html(handout._add_video_posters(page))
    first, second = elements["video"]
    poster = Image.open(io.BytesIO(base64.b64decode(first["poster"].split(",", 1)[1])))
    assert poster.size == (64, 48)  # the clip's frame size
    assert poster.convert("RGB").getpixel((5, 24)) != (255, 255, 255)  # the blue dot, at frame 0
    assert second["poster"] == "data:image/png;base64,AAAA"  # an existing poster is kept


def test_html_without_latex2mathml_says_what_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "latex2mathml.converter", None)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("$x$")])
    with pytest.raises(handout.HandoutError, match=r'pip install -e "\.\[handout\]"'):
        handout._math_as_mathml(nb)


@pytest.mark.parametrize("heading", ["# 02 · The leaky neuron", "# Lesson 2: The leaky neuron",
                                     "# The leaky neuron"])
def test_the_header_says_the_lesson_number_once(heading):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(heading + "\n\nText.")])
    lesson = handout.lesson_info(Path("02_lif_neuron.ipynb"), nb)
    assert lesson.heading == "Lesson 02: The leaky neuron"


ZH_LESSON = REPO / "notebooks" / "zh" / "solutions" / "00_start_here.ipynb"


def test_a_chinese_handout_declares_cjk_fonts_and_an_english_one_does_not(tmp_path):
    zh = handout.build(ZH_LESSON, "student", "html", tmp_path / "zh").read_text()
    assert handout.CJK_FONTS in zh and "从这里开始" in zh
    assert ('<div class="snnlab-lesson">第 00 课：从这里开始：脉冲神经网络概览</div>' in zh
            and '<div class="snnlab-version">学生版</div>' in zh)
    assert "@font-face" not in zh  # no path of this machine in an HTML handout
    en = handout.build(REPO / "notebooks" / "solutions" / "00_start_here.ipynb", "student",
                       "html", tmp_path / "en").read_text()
    assert handout.CJK_FONTS not in en


def test_a_chinese_pdf_handout_prints_chinese_text_with_the_noto_font(tmp_path, monkeypatch):
    try:
        chromium = handout.find_chromium()
    except handout.HandoutError as error:
        pytest.skip(str(error))
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found: apt-get install poppler-utils")
    pages, real = [], handout.html_to_pdf

    def printing(html_file, pdf_file, browser, timeout=180):  # the page Chromium prints
        pages.append(html_file.read_text())
        real(html_file, pdf_file, browser, timeout)

    monkeypatch.setattr(handout, "html_to_pdf", printing)
    pdf = handout.build(ZH_LESSON, "instructor", "pdf", tmp_path, chromium=chromium)
    for name in ("NotoSansCJKsc-Regular.otf", "NotoSansMonoCJKsc-Regular.otf"):
        assert 'src: url("file://' in pages[0] and f'/{name}"); }}' in pages[0]
    text = subprocess.run(["pdftotext", "-l", "2", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "从这里开始：脉冲神经网络概览" in text and "什么是脉冲神经网络" in text



@pytest.fixture
def chinese():
    from snnlab import i18n

    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_the_handout_command_reports_in_chinese(tmp_path, capsys, monkeypatch, chinese):
    out = tmp_path / "out"
    assert run_cli(str(TOY), "--version", "student", "--to", "ipynb", "--out", str(out)) == 0
    target = out / "01_toy_lesson-student.ipynb"
    size = f"{target.stat().st_size / 1e6:.2f}"
    assert capsys.readouterr().out == f"已写入 {target}（{size} MB）\n"

    def broken(path, *args, **kwargs):
        raise handout.HandoutError(f"{path.name}: could not write it")

    monkeypatch.setattr(handout, "build", broken)
    assert run_cli(str(TOY), "--version", "student", "--to", "ipynb", "--out", str(out)) == 1
    assert capsys.readouterr().err == (
        "错误：01_toy_lesson.ipynb: could not write it\n1 份讲义中有 1 份生成失败\n")
