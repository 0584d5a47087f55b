"""Lessons 00-03 in Chinese: what the lessons' own cells print and draw goes through ``tr``
(one code for both languages), every message has its Chinese, the cells print Chinese with the
right numbers in the Chinese edition and exactly their stored English output in the English
one; the Chinese student edition's stubs and waiting cells speak Chinese."""

from __future__ import annotations

import ast
import contextlib
import io
import json
from pathlib import Path

import matplotlib
import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from snnlab import i18n
from snnlab.course import handout
from tests.chinese import english_prose, has_chinese

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ("00_start_here", "01_spike_encoding", "02_lif_neuron", "03_surrogate_gradients")
# Calls whose string arguments a student reads: printed lines, figure titles, labels, legends
SHOWN_CALLS = {"print", "set_title", "set_xlabel", "set_ylabel", "suptitle", "text", "annotate",
               "legend", "set_yticks", "set_xticks"}
SHOWN_KEYWORDS = {"title", "titles", "label", "xlabel", "ylabel", "xticklabels", "yticklabels"}


@pytest.fixture
def chinese():
    """The language is Chinese during the test, English again after it."""
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def _cells(path: Path) -> dict[str, dict]:
    return {c["id"]: c for c in json.loads(path.read_text())["cells"]}


def _code_cells(lesson: str) -> list[tuple[str, str]]:
    path = ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb"
    return [(cid, "".join(c["source"])) for cid, c in _cells(path).items()
            if c["cell_type"] == "code" and cid != "colab-setup"]


def _tree(code: str) -> ast.Module:
    return ast.parse(TransformerManager().transform_cell(code))


def _is_tr(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (getattr(node.func, "id", None) == "tr"
                                           or getattr(node.func, "attr", None) == "tr")


def tr_calls(code: str) -> list[tuple[str, str | None]]:
    """``(message, context)`` of every ``tr("...")`` call in ``code``."""
    found = []
    for node in ast.walk(_tree(code)):
        if _is_tr(node):
            assert isinstance(node.args[0], ast.Constant), ast.unparse(node)
            context = next((k.value.value for k in node.keywords if k.arg == "context"), None)
            found.append((node.args[0].value, context))
    return found


def shown_english(code: str) -> list[str]:
    """English sentences in what ``code`` prints or draws without ``tr``: the string constants
    (f-strings' text included) in the arguments of print, set_title, ... and in title=,
    label=, ... keywords, outside any ``tr(...)`` call."""
    def strings(node: ast.AST) -> list[str]:
        if _is_tr(node):
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        return [s for child in ast.iter_child_nodes(node) for s in strings(child)]

    found = []
    for node in ast.walk(_tree(code)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        values = [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        if name in SHOWN_CALLS:
            values += node.args
        for value in values:
            found += [text for s in strings(value) for text in english_prose(s)]
    return found


def test_the_finders_find_what_they_are_for():
    code = ('print("three plain words", tr("kept {n}").format(n=1), f"shown as text {x}")\n'
            'ax.set(title=tr("a title", context="figure"), xlabel="time step of it")\n'
            'names = ["not shown here at all"]\n')
    assert sorted(tr_calls(code)) == [("a title", "figure"), ("kept {n}", None)]
    assert sorted(shown_english(code)) == ["shown as text", "three plain words", "time step of it"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_message_of_the_lessons_code_has_its_chinese(lesson, chinese):
    messages = [m for _, code in _code_cells(lesson) for m in tr_calls(code)]
    assert len(messages) >= (2 if lesson == "00_start_here" else 20)
    for message, context in messages:
        shown = i18n.tr(message, context=context)
        assert shown != message and english_prose(shown) == [], (message, context)
        assert has_chinese(shown) or not english_prose(message), (message, context)


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lessons_code_shows_no_english_sentence_outside_tr(lesson):
    left = {cid: found for cid, code in _code_cells(lesson) if (found := shown_english(code))}
    assert left == {}


def _run(lesson: str, cells: list[str]) -> dict[str, str]:
    """What each of the instructor edition's ``cells`` prints, run in order in one namespace
    (after the lesson's imports, its first code cell)."""
    code = dict(_code_cells(lesson))
    namespace: dict = {}
    printed = {}
    first = next(iter(code))
    for cid in [first, *cells]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code[cid].replace("plt.show()", "plt.close('all')"), cid, "exec"),
                 namespace)
        printed[cid] = out.getvalue()
    import matplotlib.pyplot as plt

    plt.close("all")
    return printed


def _stored(lesson: str, cid: str) -> str:
    cell = _cells(ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb")[cid]
    return "".join("".join(o["text"]) for o in cell["outputs"] if o.get("name") == "stdout")


RUNS = {  # cells that print and need no data set nor training: run in both languages
    "02_lif_neuron": ["cf5dc340", "09b377b7", "13425711", "532f0911", "f7b039a6"],
    "03_surrogate_gradients": ["08678827", "ab6e9797", "ce83fc8f", "f6ed0185", "04409cab",
                               "af48eaf3"],
}


@pytest.mark.parametrize("lesson", sorted(RUNS))
def test_the_cells_print_their_stored_english_output_in_english(lesson):
    printed = _run(lesson, RUNS[lesson])
    for cid in RUNS[lesson]:
        assert printed[cid] == _stored(lesson, cid), cid


@pytest.mark.parametrize("lesson", sorted(RUNS))
def test_the_cells_print_chinese_with_the_same_numbers(lesson, chinese):
    printed = _run(lesson, RUNS[lesson])
    for cid in RUNS[lesson]:
        for line in printed[cid].splitlines():
            assert english_prose(line) == [], (cid, line)
    if lesson == "02_lif_neuron":
        lines = printed["09b377b7"].splitlines()
        assert lines[0] == " t   I[t] | 减法复位：U[t]  S[t] | 归零：U[t]  S[t]"
        # its columns are as wide as the English header's (a Chinese character is two columns)
        english = " t   I[t] | subtract: U[t]  S[t] | zero: U[t]  S[t]"
        assert [i18n.width(column) for column in lines[0].split("|")] == [
            len(column) for column in english.split("|")]
        assert lines[-1] == "100 个时间步内的脉冲数：减法复位 20 个，归零复位 22 个"
        assert "与输入乘以 dt/C 的 LIF(beta = 1 - dt/tau) 膜电位相同： True" in printed["cf5dc340"]
        assert printed["13425711"] == "脉冲相同： True\n膜电位相同： True\n"
        assert printed["532f0911"].splitlines()[1] == "参数个数： 795010"
        hidden = printed["f7b039a6"].splitlines()
        assert hidden[:3] == ["输入层：每个神经元每个时间步 0.201 个脉冲",
                              "隐藏层：每个神经元每个时间步 0.092 个脉冲",
                              "输出层：每个神经元每个时间步 0.116 个脉冲"]
        assert hidden[3] == "从未发放的隐藏神经元：1000 个中有 324 个"
    else:
        assert printed["ce83fc8f"].splitlines() == ["输出脉冲： (25, 8, 10)",
                                                    "权重上的梯度： (100, 10) - 每一项都恰好为 0"]
        assert printed["04409cab"].startswith("脉冲相同；梯度在 float32 下的相对差异在 1e-3 以内")
        assert printed["af48eaf3"] == "脉冲与用硬阶跃函数时相同，而权重上有了不为 0 的梯度\n"


# ------------------------------------------------------------- the Chinese student edition


@pytest.mark.parametrize("lesson", LESSONS[1:])
def test_the_chinese_student_edition_has_chinese_stubs_and_waiting_cells(lesson):
    zh = nbformat.read(ROOT / "notebooks" / "zh" / f"{lesson}.ipynb", as_version=4)
    en = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
    zh_text = "\n".join(c.source for c in zh.cells if c.cell_type == "code")
    en_text = "\n".join(c.source for c in en.cells if c.cell_type == "code")
    stubs = en_text.count("# YOUR CODE HERE")
    assert stubs >= 2
    assert "YOUR CODE HERE" not in zh_text and zh_text.count("# 在这里写你的代码") == stubs
    assert zh_text.count("raise NotImplementedError") == en_text.count("raise NotImplementedError")
    assert "this cell runs your" not in zh_text
    assert zh_text.count("# 这个单元格运行你在上面练习中写的 `") == en_text.count(
        "# this cell runs your `")
    assert handout.is_student_edition(zh) and handout.is_student_edition(en)
    zh_instructor = ROOT / "notebooks" / "zh" / "solutions" / f"{lesson}.ipynb"
    assert not handout.is_student_edition(nbformat.read(zh_instructor, as_version=4))


def _waiting_cell(folder: Path) -> str:
    cell = _cells(folder / "02_lif_neuron.ipynb")["847291e6"]
    return "".join(cell["source"])


def _run_unwritten(source: str) -> str:
    def beta_from_tau(tau, dt):
        raise NotImplementedError

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(source, {"beta_from_tau": beta_from_tau, "tr": i18n.tr})
    return out.getvalue()


def test_a_waiting_cell_says_so_in_the_editions_language(chinese):
    source = _waiting_cell(ROOT / "notebooks" / "zh")
    assert source.startswith("try:  # 这个单元格运行你在上面练习中写的 `beta_from_tau`\n")
    assert _run_unwritten(source) == ("… 这个单元格要运行你写的 `beta_from_tau`：请先在上面的练习中"
                                      "写好它，再运行这个单元格。\n")
    i18n.set_language("en")
    english = _waiting_cell(ROOT / "notebooks")
    assert english.startswith("try:  # this cell runs your `beta_from_tau` from the exercise")
    assert _run_unwritten(english) == ("… this cell runs your `beta_from_tau`: write it in the "
                                       "exercise above, then run this cell again.\n")


def test_stubs_in_both_languages():
    source = 'import math\n\n\ndef f(x):\n    """Doc."""\n    return math.exp(x)\n'
    assert handout.stub_solution(source).endswith(
        '"""Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError')
    assert handout.stub_solution(source, "zh_CN").endswith(
        '"""Doc."""\n    # 在这里写你的代码\n    raise NotImplementedError')
    stub = handout.stub_solution("x = 1", "zh_CN")
    assert stub == "# 在这里写你的代码\nraise NotImplementedError"


# ------------------------------------------------------------------------- Chinese diagrams


def _diagrams_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_diagrams",
                                                  ROOT / "assets" / "make_diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_diagrams_draws_every_diagram_with_chinese_labels(tmp_path, monkeypatch):
    from snnlab import fonts

    diagrams = _diagrams_module()
    monkeypatch.setitem(diagrams.OUT, "zh_CN", tmp_path / "zh")
    shown = []
    translate = diagrams._
    monkeypatch.setattr(diagrams, "_", lambda text: shown.append(text) or translate(text))
    try:
        diagrams.main(["--lang", "zh_CN"])
    finally:
        fonts.use_english()
    english = sorted(p.name for p in (ROOT / "assets").glob("*.png"))
    assert sorted(p.name for p in (tmp_path / "zh").glob("*.png")) == english
    assert sorted(set(shown)) == sorted(diagrams.ZH)  # every label has its Chinese, and used
    for label, chinese in diagrams.ZH.items():
        assert has_chinese(chinese) and english_prose(chinese) == [], label
    # the committed Chinese diagrams are there, one per English diagram
    assert sorted(p.name for p in (ROOT / "assets" / "zh").glob("*.png")) == english


@pytest.mark.parametrize("lesson", ["00_start_here", "01_spike_encoding", "02_lif_neuron",
                                    "03_surrogate_gradients", "04_fc_snn_mnist"])
def test_the_chinese_editions_show_the_chinese_diagrams(lesson):
    import base64

    def attachments(path: Path) -> dict[str, bytes]:
        return {name: base64.b64decode(data["image/png"])
                for cell in _cells(path).values()
                for name, data in cell.get("attachments", {}).items()}

    english = attachments(ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb")
    assert english and all(png == (ROOT / "assets" / name).read_bytes()
                           for name, png in english.items())
    for path in (ROOT / "notebooks" / "zh" / "solutions" / f"{lesson}.ipynb",
                 ROOT / "notebooks" / "zh" / f"{lesson}.ipynb"):
        chinese = attachments(path)
        assert set(chinese) == set(english)
        for name, png in chinese.items():
            assert png == (ROOT / "assets" / "zh" / name).read_bytes(), (path, name)


def test_a_change_of_text_alone_keeps_the_chinese_instructor_editions_outputs(tmp_path,
                                                                               monkeypatch):
    import shutil

    from snnlab import __main__ as cli
    from snnlab.course import translations

    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    (tmp_path / "translations" / "zh_CN").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "assets", tmp_path / "assets")
    for name in ("solutions/00_start_here.ipynb", "00_start_here.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    shutil.copytree(ROOT / "notebooks" / "zh", tmp_path / "notebooks" / "zh")
    file = tmp_path / "translations" / "zh_CN" / "00_start_here.json"
    shutil.copy(translations.path(ROOT, "00_start_here"), file)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["edition", "--check"]) == 0
    zh = tmp_path / "notebooks" / "zh" / "solutions" / "00_start_here.ipynb"
    # a translated markdown cell reworded, and a Chinese diagram redrawn
    translation = json.loads(file.read_text())
    cell = next(c for c in translation["cells"].values() if "../../assets/zh/" in c.get(
        "markdown", ""))
    cell["markdown"] = cell["markdown"].replace("../../assets/zh/lif_neuron.png",
                                                "../../assets/zh/rc_circuit.png")
    file.write_text(json.dumps(translation, ensure_ascii=False))
    assert cli.main(["edition"]) == 0
    cells = _cells(zh)
    assert "".join(cells["0c54a897"]["outputs"][0]["text"]).endswith("30 个时间步内共 7 个脉冲\n")
    assert any("rc_circuit.png" in c.get("attachments", {}) for c in cells.values())
    assert cli.main(["edition", "--check"]) == 0
    # a changed code cell: the outputs go, until the edition is run again
    english = tmp_path / "notebooks" / "solutions" / "00_start_here.ipynb"
    nb = json.loads(english.read_text())
    code = next(c for c in nb["cells"] if c["id"] == "0c54a897")
    code["source"] = "".join(code["source"]).replace("beta=0.9", "beta=0.8")
    english.write_text(json.dumps(nb))
    translation = json.loads(file.read_text())
    translation["cells"]["0c54a897"]["source_sha1"] = translations.source_sha1(code["source"])
    file.write_text(json.dumps(translation, ensure_ascii=False))
    assert cli.main(["edition"]) == 0
    assert _cells(zh)["0c54a897"]["outputs"] == []


def test_the_video_warnings_speak_chinese(chinese, monkeypatch):
    from snnlab import animate

    monkeypatch.setattr(animate, "ffmpeg", None)
    monkeypatch.setattr(animate, "_warned", False)
    with pytest.warns(UserWarning) as caught:
        animate._warn(animate._missing_ffmpeg(), every_time=False)
    message = str(caught[0].message)
    assert message.startswith(
        "snnlab.animate：缺少 ffmpeg-python 包（`pip install ffmpeg-python`）")
    assert "视频将以 JavaScript 播放器或 GIF 显示" in message and english_prose(message) == []


def test_a_digits_name_in_both_languages(chinese):
    from snnlab import plot

    assert plot.digit_name(0, 8) == "测试集数字 #0（标签 8）"
    assert plot.digit_name(3, 1, "digit") == "数字 #3（标签 1）"
    i18n.set_language("en")
    assert plot.digit_name(0, 8) == "test digit #0 (an 8)"
    assert plot.digit_name(3, 1, "digit") == "digit #3 (a 1)"
