"""The two editions: the student edition generated from the instructor's, Colab badges and
setup cells, diagrams as attachments, the repository URL in one place."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest

from snnlab import __main__ as cli
from snnlab.course import editions

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://github.com/example-org/snnlab"
PYPROJECT = f'[project]\nname = "snnlab"\n\n[project.urls]\nRepository = "{URL}"\n'


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A tiny course checkout: pyproject with a URL, one lesson, one diagram."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    (tmp_path / "assets").mkdir()
    shutil.copy(FIXTURES / "toy_spikes.png", tmp_path / "assets" / "toy_spikes.png")
    nb = json.loads((FIXTURES / "01_toy_lesson.ipynb").read_text())
    first = nb["cells"][0]
    first["source"] = "".join(first["source"]).replace("(toy_spikes.png)",
                                                       "(../assets/toy_spikes.png)")
    (tmp_path / "notebooks" / "solutions" / "01_toy.ipynb").write_text(json.dumps(nb))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_edition_writes_a_student_edition_with_stubs_badges_setup_and_diagrams(course, capsys):
    assert cli.main(["edition"]) == 0
    student, instructor = (_cells(course / "notebooks" / "01_toy.ipynb"),
                           _cells(course / "notebooks" / "solutions" / "01_toy.ipynb"))
    solution = next(c for c in student if "double_rate" in _source(c) and "def" in _source(c))
    assert "raise NotImplementedError" in _source(solution) and "min(" not in _source(solution)
    assert not any("solution-explanation" in c["metadata"].get("tags", []) for c in student)
    assert any("min(" in _source(c) for c in instructor)  # the source keeps its solutions
    for cells, path in ((student, "notebooks/01_toy.ipynb"),
                        (instructor, "notebooks/solutions/01_toy.ipynb")):
        title = _source(cells[0])
        assert title.startswith("# Toy lesson") and (
            "colab.research.google.com/github/example-org/snnlab/blob/main/" + path) in title
        # the badge is a paragraph of its own: a blank line before and after it
        badge = next(line for line in title.splitlines() if "colab-badge.svg" in line)
        assert f"\n\n{badge}\n\n" in title
        first_code = next(c for c in cells if c["cell_type"] == "code")
        assert first_code["metadata"]["tags"] == ["colab-setup"]
        assert f'"git+{URL}"' in _source(first_code)
        assert "attachment:toy_spikes.png" in title and "../assets" not in title
        assert cells[0]["attachments"]["toy_spikes.png"]["image/png"].startswith("iVBOR")
    assert "wrote notebooks/01_toy.ipynb" in capsys.readouterr().out


def test_edition_is_idempotent_and_check_finds_drift(course, capsys):
    assert cli.main(["edition"]) == 0
    assert cli.main(["edition", "--check"]) == 0
    assert cli.main(["edition"]) == 0 and "up to date" in capsys.readouterr().out
    student = course / "notebooks" / "01_toy.ipynb"
    nb = json.loads(student.read_text())
    nb["cells"][2]["source"] = "a student edition edited by hand"
    student.write_text(json.dumps(nb))
    assert cli.main(["edition", "--check"]) == 1
    assert "out of date: notebooks/01_toy.ipynb" in capsys.readouterr().err


def test_a_fork_rewrites_the_url_in_pyproject_badges_and_setup_cells(course):
    assert cli.main(["edition"]) == 0
    fork = "https://github.com/someone/my-snn-course"
    assert cli.main(["edition", "--repo", fork]) == 0
    assert f'Repository = "{fork}"' in (course / "pyproject.toml").read_text()
    for path in (course / "notebooks" / "01_toy.ipynb",
                 course / "notebooks" / "solutions" / "01_toy.ipynb"):
        text = path.read_text()
        assert "someone/my-snn-course" in text and "example-org" not in text
        assert text.count("colab-badge.svg") == 1 and text.count('"colab-setup"') == 2


@pytest.mark.parametrize("link", ["![a [bracketed] text](../assets/toy_spikes.png)",
                                  "![text](../assets/toy spikes.png)"])
def test_a_diagram_link_the_edition_cannot_embed_is_an_error(course, capsys, link):
    lesson = course / "notebooks" / "solutions" / "01_toy.ipynb"
    nb = json.loads(lesson.read_text())
    nb["cells"][0]["source"] = _source(nb["cells"][0]) + "\n" + link + "\n"
    lesson.write_text(json.dumps(nb))
    assert cli.main(["edition"]) == 2
    err = capsys.readouterr().err
    assert "cannot embed" in err and "../assets/" in err
    assert not (course / "notebooks" / "01_toy.ipynb").exists()


@pytest.mark.parametrize("url", ["github.com/x/y", "https://gitlab.com/x/y", "file:///tmp/x"])
def test_a_fork_url_must_be_a_github_repository(course, capsys, url):
    assert cli.main(["edition", "--repo", url]) == 2
    err = capsys.readouterr().err
    assert "--repo must be a GitHub repository" in err and url in err
    assert URL in (course / "pyproject.toml").read_text()


def test_edition_outside_a_course_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert cli.main(["edition"]) == 2
    err = capsys.readouterr().err
    assert f"no lessons in {tmp_path / 'notebooks' / 'solutions'} (expected NN_*.ipynb)" in err
    assert "top folder of a checkout of the course's repository" in err


def test_edition_where_there_is_no_pyproject_names_the_folder_not_errno(tmp_path, monkeypatch,
                                                                       capsys):
    """As from an installed wheel, run in some folder."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["edition", "--repo", "https://github.com/me/fork"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m snnlab edition: error: {tmp_path} has no pyproject.toml: "
                          "run this command in the top folder of a checkout")
    assert "Errno" not in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_edition_repo_leaves_another_projects_pyproject_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    theirs = ('[project]\nname = "other"\ndependencies = [\n  "numpy",\n]\n\n[project.urls]\n'
              'Repository = "https://github.com/other/other"\n')
    (tmp_path / "pyproject.toml").write_text(theirs)
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    shutil.copy(FIXTURES / "01_toy_lesson.ipynb", tmp_path / "notebooks" / "solutions")
    assert cli.main(["edition", "--repo", "https://github.com/me/fork"]) == 2
    assert (f"{tmp_path / 'pyproject.toml'} is not snnlab's (name = 'other')"
            in capsys.readouterr().err)
    assert (tmp_path / "pyproject.toml").read_text() == theirs
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == ["solutions"]


@pytest.mark.parametrize("broken, reason", [
    ("not json {", "is not a readable notebook (Notebook does not appear to be JSON"),
    ('{"cells": 3}', "is not a readable notebook"),
    ('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "extra": 1}',
     "is not a valid notebook"),
])
def test_a_broken_lesson_is_named_and_nothing_is_written(course, capsys, broken, reason):
    (course / "notebooks" / "solutions" / "02_broken.ipynb").write_text(broken)
    pyproject = (course / "pyproject.toml").read_text()
    assert cli.main(["edition", "--repo", "https://github.com/me/fork"]) == 2
    err = capsys.readouterr().err
    assert f"error: {course / 'notebooks' / 'solutions' / '02_broken.ipynb'} {reason}" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (course / "pyproject.toml").read_text() == pyproject  # --repo waited for the check
    assert not (course / "notebooks" / "01_toy.ipynb").exists()  # the good lesson too


def test_a_missing_diagram_is_named_with_its_lesson_before_anything_is_written(course, capsys):
    lesson = course / "notebooks" / "solutions" / "01_toy.ipynb"
    nb = json.loads(lesson.read_text())
    nb["cells"][0]["source"] = _source(nb["cells"][0]) + "\n![a raster](../assets/gone.png)\n"
    lesson.write_text(json.dumps(nb))
    pyproject = (course / "pyproject.toml").read_text()
    assert cli.main(["edition", "--repo", "https://github.com/me/fork"]) == 2
    assert (f"the diagram {course / 'assets' / 'gone.png'} named in "
            "notebooks/solutions/01_toy.ipynb is missing") in capsys.readouterr().err
    assert (course / "pyproject.toml").read_text() == pyproject


def test_the_setup_cell_does_nothing_outside_colab():
    namespace: dict = {}
    exec(editions.setup_source(URL), namespace)  # no google.colab here: no pip, no error
    assert "subprocess" in namespace


def test_student_check_cells_are_not_compared_by_nbval(course):
    solutions = course / "notebooks" / "solutions" / "01_toy.ipynb"
    nb = json.loads(solutions.read_text())
    for cell in nb["cells"]:
        if _source(cell).startswith("check_"):
            cell["source"] = "# NBVAL_CHECK_OUTPUT\n" + _source(cell)
    solutions.write_text(json.dumps(nb))
    assert cli.main(["edition"]) == 0
    checks = [_source(c) for c in _cells(course / "notebooks" / "01_toy.ipynb")
              if _source(c).removeprefix("# NBVAL_CHECK_OUTPUT\n").startswith("check_")]
    assert checks == ["check_double_rate(double_rate)", "check_leak(leak)"]
    kept = [_source(c) for c in _cells(solutions) if "NBVAL" in _source(c)]
    assert len(kept) == 2
    assert all(source.startswith("# NBVAL_CHECK_OUTPUT") for source in kept)


def test_the_committed_student_edition_is_a_fresh_generation(monkeypatch, capsys):
    """notebooks/ is what `python -m snnlab edition` makes of notebooks/solutions/: no drift."""
    monkeypatch.chdir(ROOT)
    code = cli.main(["edition", "--check"])
    assert code == 0, capsys.readouterr().err


def test_a_later_cell_that_runs_the_students_function_waits_for_the_exercise(course):
    solutions = course / "notebooks" / "solutions" / "01_toy.ipynb"
    nb = json.loads(solutions.read_text())
    later = {"cell_type": "code", "execution_count": 1, "metadata": {}, "id": "later",
             "outputs": [{"output_type": "stream", "name": "stdout", "text": "0.5\n"}],
             "source": "# NBVAL_CHECK_OUTPUT\nprint(double_rate(0.25))\nprint(math.leak)"}
    library = {"cell_type": "code", "execution_count": 2, "metadata": {}, "id": "library",
               "outputs": [], "source": "print(snnlab.leak(1.0))"}
    nb["cells"] += [later, library]
    solutions.write_text(json.dumps(nb))
    assert cli.main(["edition"]) == 0
    student = _cells(course / "notebooks" / "01_toy.ipynb")
    wrapped, untouched = student[-2], student[-1]
    assert _source(wrapped).startswith("try:  # this cell runs your `double_rate`")
    assert "NBVAL_CHECK_OUTPUT" not in _source(wrapped) and wrapped["outputs"] == []
    assert _source(untouched) == "print(snnlab.leak(1.0))"  # a library function of that name
    namespace = {"double_rate": lambda rate: (_ for _ in ()).throw(NotImplementedError()),
                 "math": None}
    import contextlib
    import io
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(_source(wrapped), namespace)
    assert printed.getvalue() == ("… this cell runs your `double_rate`: write it in the "
                                  "exercise above, then run this cell again.\n")


@pytest.mark.parametrize("source, waits", [
    ("print(accuracy(spikes, labels))", True),                 # a call
    ("passed = check_accuracy(accuracy)", True),               # passed as an argument
    ("results = [accuracy]", True),
    ("%matplotlib inline\nscore = accuracy(spikes, labels)", True),  # a cell with a magic
    ("print(f'{accuracy(spikes, labels):.2f}')", True),        # inside an f-string's braces
    ('print(history.final()["test_accuracy"])', False),
    ("print(history.final()['accuracy'])", False),             # a dict key
    ('print("the accuracy is", 0.9)', False),                  # a string literal
    ("print(f'test accuracy {score:.2f}')", False),            # an f-string's text
    ("score = losses.accuracy(spikes, labels)", False),        # an attribute
    ("# accuracy(spikes, labels) would be the same\nprint(1)", False),  # a comment
    ("plot(accuracy=0.9)", False),                             # a keyword argument
    ("!echo accuracy", False),                                 # a shell line's text
])
def test_only_real_uses_of_an_exercise_wrap_a_later_cell(source, waits):
    cell = {"cell_type": "code", "source": source, "metadata": {}, "execution_count": 3,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "0.9\n"}]}
    editions._wait_for_exercises(cell, ["accuracy"])
    assert cell["source"].startswith("try:  # this cell runs your `accuracy`") == waits
    assert (cell["outputs"] == []) == waits
    if not waits:
        assert cell["source"] == source and cell["execution_count"] == 3


def test_a_cell_naming_two_exercises_names_only_those_it_runs():
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
            "source": "loss = train_step(model, x, y)\nprint(metrics['accuracy'])"}
    editions._wait_for_exercises(cell, ["train_step", "accuracy"])
    assert cell["source"].startswith("try:  # this cell runs your `train_step` from the")
    assert "`accuracy`" not in cell["source"]


def test_lesson_04s_student_edition_waits_only_where_its_exercises_run():
    """Cells that read a 'test_accuracy' key or print the word 'accuracy' keep their outputs;
    only the cells that call the student's functions wait for them."""
    cells = _cells(ROOT / "notebooks" / "04_fc_snn_mnist.ipynb")
    waiting = [_source(c).splitlines()[0] for c in cells
               if _source(c).startswith("try:  # this cell runs your")]
    assert waiting == [  # the training loop, the comparison with fit, with losses.accuracy,
        # with losses.mse_rate (the check cells themselves are not wrapped)
        "try:  # this cell runs your `train_step` from the exercise above",
        "try:  # this cell runs your `train_step` from the exercise above",
        "try:  # this cell runs your `accuracy` from the exercise above",
        "try:  # this cell runs your `mse_rate` from the exercise above",
    ]


# ------------------------------------------------------------------ no stub gives its answer away

PREFIXES = re.compile(r"\b(?:math|torch|np|nn\.functional|F)\.")


def _normal(text: str) -> str:
    """Text without spaces and module prefixes: ``math.exp(-dt / tau)`` -> ``exp(-dt/tau)``."""
    return PREFIXES.sub("", re.sub(r"\s+", "", text))


def _answers(solution: str) -> dict[str, list[str]]:
    """Each function's (and method's) answer in a solution cell, normalised: what it returns,
    and for a returned name the expression last assigned to it. Bare names, numbers and
    expressions of fewer than 6 characters are no answer."""
    answers: dict[str, list[str]] = {}
    for function in ast.walk(ast.parse(solution)):
        if not isinstance(function, ast.FunctionDef):
            continue
        assigned = {target.id: node.value for node in ast.walk(function)
                    if isinstance(node, ast.Assign) for target in node.targets
                    if isinstance(target, ast.Name)}
        found = []
        for node in ast.walk(function):
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for value in values:
                if isinstance(value, ast.Name) and value.id in assigned:
                    value = assigned[value.id]
                if not isinstance(value, (ast.Name, ast.Constant)):
                    found.append(_normal(ast.unparse(value)))
        answers[function.name] = [text for text in found if len(text) >= 6]
    return answers


def _leaks(solution: str, stub: str) -> list[str]:
    """The answers of ``solution`` that its ``stub`` (docstrings, comments) spells out."""
    shown = _normal(stub)
    return [f"{name}: {answer}" for name, answers in _answers(solution).items()
            for answer in answers if answer in shown]


def test_the_leak_check_finds_an_answer_in_a_docstring():
    """Lesson 02's first stub once ended 'so beta = exp(-dt / tau)', its exercise's answer."""
    solution = ('def beta_from_tau(tau: float, dt: float) -> float:\n'
                '    """The exact decay factor beta over one step of length dt."""\n'
                '    return math.exp(-dt / tau)\n')
    leaky = solution.replace('dt."""', 'dt, so beta = exp(-dt / tau)."""')
    assert _answers(solution) == {"beta_from_tau": ["exp(-dt/tau)"]}
    assert _leaks(leaky, editions.handout.stub_solution(leaky)) == [
        "beta_from_tau: exp(-dt/tau)"]
    assert _leaks(solution, editions.handout.stub_solution(solution)) == []
    named = ("def f(a, b):\n    '''f = sigmoid(a * b)'''\n"
             "    out = torch.sigmoid(a * b)\n    return out\n")
    assert _leaks(named, editions.handout.stub_solution(named)) == ["f: sigmoid(a*b)"]


@pytest.mark.parametrize("lesson", sorted((ROOT / "notebooks" / "solutions").glob("[0-9]*.ipynb")),
                         ids=lambda path: path.name)
def test_no_stub_of_the_student_edition_gives_its_answer_away(lesson):
    """Every exercise's stub keeps its docstring and comments; none of them may hold the
    expression its reference solution returns."""
    def solution_cells(path: Path) -> list[str]:
        return [_source(c) for c in _cells(path) if c["cell_type"] == "code"
                and "solution" in c["metadata"].get("tags", [])]

    solutions = solution_cells(lesson)
    stubs = solution_cells(ROOT / "notebooks" / lesson.name)
    assert len(stubs) == len(solutions)
    checked = 0
    for solution, stub in zip(solutions, stubs, strict=True):
        assert "raise NotImplementedError" in stub
        assert _leaks(solution, stub) == [], f"{lesson.name}: a stub shows its answer"
        checked += sum(map(len, _answers(solution).values()))
    assert checked >= len(solutions) or not solutions  # every exercise had an answer to hide
