"""The Chinese editions cannot drift from the English one: a translation written for an older
English cell, a cell or comment left untranslated, Chinese code that is not the English code,
a Chinese edition that is not what the generator makes today: each fails here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from snnlab import __main__ as cli
from snnlab.course import editions, translations

ROOT = Path(__file__).resolve().parents[1]
ZH = ROOT / "notebooks" / "zh"
# The lessons with a Chinese edition (text, comments and docstrings translated, the instructor
# edition executed in full mode): one can be added, none lost.
EXPECTED = {"00_start_here", "01_spike_encoding", "02_lif_neuron", "03_surrogate_gradients",
            "04_fc_snn_mnist", "05_csnn_mnist", "06_spiking_autoencoder", "07_event_digits",
            "08_neurons_with_memory", "09_stdp", "10_ann_to_snn"}
TRANSLATED = sorted(p.stem for p in (ROOT / "translations" / "zh_CN").glob("[0-9][0-9]_*.json"))


def _cells(path: Path) -> dict[str, dict]:
    return {c["id"]: c for c in json.loads(path.read_text())["cells"]}


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def code_drift(english: Path, chinese: Path) -> list[str]:
    """Where the Chinese edition's code is not the English edition's, comments, docstrings
    and the setup cell's language lines aside: one line per cell."""
    found = []
    english_cells, chinese_cells = _cells(english), _cells(chinese)
    if list(english_cells) != list(chinese_cells):
        return [f"the cells are not the same: {list(english_cells)} against "
                f"{list(chinese_cells)}"]
    for cid, cell in english_cells.items():
        if cell["cell_type"] != chinese_cells[cid]["cell_type"]:
            found.append(f"cell {cid}: a {chinese_cells[cid]['cell_type']} cell")
            continue
        if cell["cell_type"] != "code":
            continue
        want = _source(cell)
        if cid == translations.SETUP_ID:
            want += "\n" + translations.LANGUAGE_SETUP
        got = _source(chinese_cells[cid])
        if translations.code_without_docstrings(want) != translations.code_without_docstrings(got):
            found.append(f"cell {cid}: its code differs from the English edition's")
    return found


def test_every_expected_lesson_has_a_translation_and_both_chinese_editions():
    assert EXPECTED <= set(TRANSLATED)
    for lesson in EXPECTED:
        instructor = ZH / "solutions" / f"{lesson}.ipynb"
        student = ZH / f"{lesson}.ipynb"
        assert instructor.is_file() and student.is_file(), lesson
        # the instructor edition is executed: every code cell ran, in order
        counts = [c["execution_count"] for c in _cells(instructor).values()
                  if c["cell_type"] == "code"]
        assert None not in counts and counts == sorted(counts), lesson


@pytest.mark.parametrize("lesson", TRANSLATED)
def test_each_translation_is_complete_and_written_for_todays_english_cells(lesson):
    english = nbformat.read(ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb", as_version=4)
    translation = translations.read(translations.path(ROOT, lesson))
    assert translations.problems(english, translation) == []


@pytest.mark.parametrize("lesson", sorted(EXPECTED))
def test_the_chinese_code_is_the_english_code(lesson):
    assert code_drift(ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb",
                      ZH / "solutions" / f"{lesson}.ipynb") == []
    assert code_drift(ROOT / "notebooks" / f"{lesson}.ipynb", ZH / f"{lesson}.ipynb") == []


@pytest.mark.parametrize("lesson", sorted(EXPECTED))
def test_the_chinese_editions_read_chinese_and_choose_the_language(lesson):
    for path in (ZH / "solutions" / f"{lesson}.ipynb", ZH / f"{lesson}.ipynb"):
        cells = list(_cells(path).values())
        for cell in cells:
            if cell["cell_type"] == "markdown":
                assert any("\u4e00" <= ch <= "\u9fff" for ch in _source(cell)), cell["id"]
        title = _source(cells[0])
        assert f"blob/main/{path.relative_to(ROOT).as_posix()})" in title  # its own badge
        setup = next(c for c in cells if c["cell_type"] == "code")
        assert _source(setup).endswith(translations.LANGUAGE_SETUP)


def test_the_chinese_editions_are_what_the_generator_makes_today():
    wanted = editions.editions(ROOT)
    for lesson in TRANSLATED:
        for path in (ZH / "solutions" / f"{lesson}.ipynb", ZH / f"{lesson}.ipynb"):
            assert path in wanted, f"{path} is not generated"
            assert path.is_file() and path.read_text() == wanted[path], (
                f"{path.relative_to(ROOT)} is out of date: run python -m snnlab edition")


def test_comments_and_docstrings_are_replaced_in_place():
    code = ('# NBVAL_CHECK_OUTPUT\nx = 1  # one  step\n\n\ndef f():\n    """Doc of f.\n\n'
            '    More: $\\\\beta$."""\n    return "# text"  # noqa: E501\n')
    assert translations.comments(code) == ["one  step"]
    assert translations.docstrings(code) == ['Doc of f.\n\n    More: $\\beta$.']
    with pytest.raises(ValueError, match="has escapes"):
        translations.translate_code(code, {"one  step": "一步"},
                                    {'Doc of f.\n\n    More: $\\beta$.': "f 的说明。"})
    code = code.replace("\\\\beta", "beta")
    zh = translations.translate_code(code, {"one  step": "一步"},
                                     {"Doc of f.\n\n    More: $beta$.": "f 的说明。\n\n    更多。"})
    assert zh == ('# NBVAL_CHECK_OUTPUT\nx = 1  # 一步\n\n\ndef f():\n    """f 的说明。\n\n'
                  '    更多。"""\n    return "# text"  # noqa: E501\n')
    with pytest.raises(ValueError, match="the comment 'one  step' has no translation"):
        translations.translate_code(code, {}, {})


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A copy of the course with lesson 00 and its translation, its editions generated."""
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    (tmp_path / "translations" / "zh_CN").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "assets", tmp_path / "assets")  # the Chinese diagrams, assets/zh
    for name in ("solutions/00_start_here.ipynb", "00_start_here.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    shutil.copytree(ZH, tmp_path / "notebooks" / "zh")
    shutil.copy(translations.path(ROOT, "00_start_here"),
                tmp_path / "translations" / "zh_CN" / "00_start_here.json")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["edition", "--check"]) == 0
    return tmp_path


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False))


def test_a_stale_or_incomplete_translation_and_a_drifted_edition_each_fail(course, capsys):
    english = course / "notebooks" / "solutions" / "00_start_here.ipynb"
    file = course / "translations" / "zh_CN" / "00_start_here.json"
    zh_instructor = course / "notebooks" / "zh" / "solutions" / "00_start_here.ipynb"
    kept = zh_instructor.read_text()
    capsys.readouterr()

    # 1. an English cell changed after its translation was written
    def reworded(nb):
        cell = next(c for c in nb["cells"] if c["id"] == "86780933")
        cell["source"] = "".join(cell["source"]).replace("a few steps", "several steps")

    _edit(english, reworded)
    assert cli.main(["edition", "--check"]) == 1
    err = capsys.readouterr().err
    new_sha1 = translations.source_sha1(_source(_cells(english)["86780933"]))
    assert ("no Chinese edition: translations/zh_CN/00_start_here.json: cell 86780933 changed "
            f"since it was translated: bring its translation up to date, then set its "
            f"source_sha1 to {new_sha1}") in err
    # writing leaves the Chinese editions as they were, and says why (exit status 1)
    assert cli.main(["edition"]) == 1 and zh_instructor.read_text() == kept
    _edit(file, lambda t: t["cells"]["86780933"].update(source_sha1=new_sha1))
    assert cli.main(["edition"]) == 0  # brought up to date: the Chinese editions again
    assert zh_instructor.read_text() == kept  # the markdown is the translation's: unchanged

    # 2. a comment, a markdown cell without translation; a comment the English no longer has
    _edit(file, lambda t: t["cells"]["0c54a897"]["comments"].pop("both [30, 1]"))
    _edit(file, lambda t: t["cells"].pop("86780933"))
    _edit(file, lambda t: t["cells"].update({"0000dead": {"source_sha1": "0" * 40}}))
    assert cli.main(["edition", "--check"]) == 1
    err = capsys.readouterr().err
    assert "cell 0c54a897: the comment 'both [30, 1]' has no translation" in err
    assert "cell 86780933 (markdown) has no translation" in err
    assert "cell 0000dead is translated but the lesson has no such cell to translate" in err
    shutil.copy(translations.path(ROOT, "00_start_here"), file)
    _edit(file, lambda t: t["cells"]["86780933"].update(source_sha1=new_sha1))
    assert cli.main(["edition", "--check"]) == 0

    # 3. a Chinese edition whose code was edited by hand, not by the generator
    def recoded(nb):
        cell = next(c for c in nb["cells"] if c["id"] == "0c54a897")
        cell["source"] = "".join(cell["source"]).replace("beta=0.9", "beta=0.8")

    _edit(zh_instructor, recoded)
    assert code_drift(english, zh_instructor) == [
        "cell 0c54a897: its code differs from the English edition's"]
    assert cli.main(["edition", "--check"]) == 1
    assert "out of date: notebooks/zh/solutions/00_start_here.ipynb" in capsys.readouterr().err
    # a changed comment is no drift of the code, but it is not what the generator makes
    zh_instructor.write_text(kept)

    def recommented(nb):
        cell = next(c for c in nb["cells"] if c["id"] == "0c54a897")
        cell["source"] = "".join(cell["source"]).replace("两者的形状", "二者的形状")

    _edit(zh_instructor, recommented)
    assert code_drift(english, zh_instructor) == []
    assert cli.main(["edition", "--check"]) == 1
    # regenerated: the translation's sources again, outputs gone until it is run
    assert cli.main(["edition"]) == 0
    cells = _cells(zh_instructor)
    assert "两者的形状" in _source(cells["0c54a897"]) and cells["0c54a897"]["outputs"] == []
    assert "run it to store its outputs" in capsys.readouterr().out


def test_a_fork_url_keeps_the_chinese_instructor_editions_outputs(course, capsys):
    zh_instructor = course / "notebooks" / "zh" / "solutions" / "00_start_here.ipynb"
    fork = "https://github.com/example-org/snnlab"
    assert cli.main(["edition", "--repo", fork]) == 0
    cells = _cells(zh_instructor)
    assert f'"git+{fork}"' in _source(cells["colab-setup"])
    assert "github/example-org/snnlab/blob/main/notebooks/zh/solutions/" in _source(
        cells["f8af13ad"])
    assert "".join(cells["0c54a897"]["outputs"][0]["text"]).endswith("30 个时间步内共 7 个脉冲\n")
    assert cli.main(["edition", "--check"]) == 0
