"""Delivery: the course works wherever a student meets it.

- from a wheel (a regular, non-editable ``pip install``), outside the repository: the
  pretrained checkpoints and their histories come with the package;
- in Google Colab: a lesson's setup cell installs the course from its repository (here a
  fake ``google.colab`` module and this repository as a local URL, offline);
- from a clone, as the README says: every lesson of the student edition runs top to bottom
  with no exercise filled in (nbval does that), and a filled-in exercise passes its check.

Each builds a fresh virtualenv that borrows this environment's site-packages (torch and the
rest) but not its editable snnlab, so the snnlab under test is the freshly installed one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest

from snnlab.course import editions

ROOT = Path(__file__).resolve().parents[1]


def _site_packages(prefix: Path) -> Path:
    return next((prefix / "lib").glob("python*/site-packages"))


def _fresh_venv(path: Path) -> Path:
    """A new virtualenv whose python sees this environment's packages, except snnlab."""
    venv.create(path, with_pip=True)
    borrowed = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    # a .pth line only adds the folder: the editable snnlab's own .pth inside is not run
    (_site_packages(path) / "borrowed.pth").write_text("\n".join(borrowed) + "\n")
    return path / "bin" / "python"


def _run(*command: str | Path, cwd: Path, env: dict | None = None,
         timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def _where_snnlab(python: Path, cwd: Path) -> str:
    return _run(python, "-c", "import snnlab; print(snnlab.__file__)", cwd=cwd).stdout.strip()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of what it is made of: setuptools builds in the source
    folder (build/, snnlab.egg-info/), which must not be the checkout."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"
    shutil.copytree(ROOT / "snnlab", source / "snnlab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out,
         source, cwd=out)
    return next(out.glob("snnlab-*.whl"))


def test_the_wheel_carries_the_checkpoints_and_stays_small(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    for name in ("fc", "single", "csnn", "sae"):
        for suffix in (".pt", ".history.csv", ".steps.csv", ".metrics.json"):
            assert f"snnlab/course/checkpoints/{name}{suffix}" in names
    for suffix in (".po", ".mo"):  # the Chinese messages (snnlab.i18n)
        assert f"snnlab/locale/zh_CN/LC_MESSAGES/snnlab{suffix}" in names
    assert not any(n.endswith(".ipynb") or "/tests/" in n for n in names)
    assert wheel.stat().st_size < 8e6


def test_lesson_04_runs_from_the_wheel_outside_the_repository(wheel, tmp_path, mnist_root):
    python = _fresh_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "--no-deps", "--quiet", wheel, cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    assert str(tmp_path / "venv") in _where_snnlab(python, work)  # not the repository's
    lesson = nbformat.read(ROOT / "notebooks" / "04_fc_snn_mnist.ipynb", as_version=4)
    # as a student opens it: TRAIN = False, the pretrained networks from the installed package
    assert any(c.cell_type == "code" and "TRAIN = False" in c.source for c in lesson.cells)
    nbformat.write(lesson, work / "04.ipynb")
    _run(python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=600", "--output", "04-run.ipynb", "04.ipynb", cwd=work,
         env={"SNNLAB_QUICK": "1", "SNNLAB_DATA_DIR": str(mnist_root)})
    run = nbformat.read(work / "04-run.ipynb", as_version=4)
    errors = [o for c in run.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the repository's git history")
def test_the_colab_setup_cell_installs_the_course_from_its_repository(tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    fake_colab = tmp_path / "fake_colab"
    (fake_colab / "google" / "colab").mkdir(parents=True)
    (fake_colab / "google" / "__init__.py").write_text("")
    (fake_colab / "google" / "colab" / "__init__.py").write_text("")
    cell = editions.setup_source(f"file://{ROOT}")
    check = ("import snnlab.course.recipes as r; print(snnlab.__file__); "
             "print(r.pretrained_history('fc').final()['test_accuracy'])")
    result = _run(python, "-c", cell + "\nimport snnlab\n" + check, cwd=tmp_path,
                  env={"PYTHONPATH": str(fake_colab), "PIP_NO_DEPS": "1"})
    where, accuracy = result.stdout.strip().splitlines()[-2:]
    assert str(tmp_path / "venv") in where and 0.9 < float(accuracy) <= 1


def test_a_student_fills_one_exercise_and_its_check_passes(tmp_path, mnist_root):
    """The README's path: open the student edition, write one function, run its check."""
    from nbclient import NotebookClient

    student = nbformat.read(ROOT / "notebooks" / "02_lif_neuron.ipynb", as_version=4)
    solutions = nbformat.read(ROOT / "notebooks" / "solutions" / "02_lif_neuron.ipynb",
                              as_version=4)
    reference = {c.source.split("(")[0]: c.source for c in solutions.cells
                 if "solution" in c.metadata.get("tags", [])}
    filled = None
    for index, cell in enumerate(student.cells):
        if "solution" in cell.metadata.get("tags", []):
            assert "raise NotImplementedError" in cell.source
            if filled is None:  # the student writes the first exercise
                cell.source, filled = reference[cell.source.split("(")[0]], index
    check = next(i for i in range(filled + 1, len(student.cells))
                 if "check_" in student.cells[i].source)
    student.cells = student.cells[:check + 1]
    NotebookClient(student, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute(
        env={**os.environ, "SNNLAB_QUICK": "1", "SNNLAB_DATA_DIR": str(mnist_root)})
    printed = "".join(o.get("text", "") for o in student.cells[check].outputs)
    assert printed.startswith("✓"), json.dumps(student.cells[check].outputs)[:500]
