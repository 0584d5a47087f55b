"""The course's language (snnlab.i18n): gettext messages, SNNLAB_LANG, the catalogue kept
complete and compiled, and Chinese figures drawn with real glyphs."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from snnlab import config, i18n
from snnlab.course import environment

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "snnlab" / "locale" / "zh_CN" / "LC_MESSAGES" / "snnlab.po"
MO = PO.with_suffix(".mo")


@pytest.fixture
def chinese():
    """The language is Chinese during the test, English again after it."""
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, **env})


def test_tr_follows_the_language(chinese):
    assert i18n.language() == "zh_CN"
    assert i18n.tr("All set: start with lesson 01.") == "一切就绪：从第 01 课开始吧。"
    assert (i18n.tr("{count} spikes in 30 steps").format(count=7)
            == "30 个时间步内共 7 个脉冲")
    i18n.set_language("en")
    assert i18n.language() == "en"
    assert i18n.tr("All set: start with lesson 01.") == "All set: start with lesson 01."


@pytest.mark.parametrize("lang", ["zh", "zh-CN", "ZH_CN", "fr", "", None])
def test_a_language_the_course_does_not_have_is_refused(lang):
    with pytest.raises(ValueError) as error:
        i18n.set_language(lang)
    assert str(error.value) == f"lang must be one of ('en', 'zh_CN'), got {lang!r}"
    assert i18n.language() == "en"  # unchanged


def test_snnlab_lang_chooses_the_language_at_import():
    done = _python("from snnlab.i18n import language, tr; "
                   "print(language(), tr('quick mode is off'))", SNNLAB_LANG=" zh_CN ")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "zh_CN 快速模式：关闭"
    done = _python("import snnlab.i18n", SNNLAB_LANG="zh")
    assert done.returncode == 1
    assert ("ValueError: the environment variable SNNLAB_LANG='zh' is not a choice it knows: "
            "write en or zh_CN, or unset it (default: en)") in done.stderr


def test_env_choice_takes_its_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("SNNLAB_TEST_CHOICE", raising=False)
    assert config.env_choice("SNNLAB_TEST_CHOICE", ("a", "b"), default="b") == "b"
    monkeypatch.setenv("SNNLAB_TEST_CHOICE", "  ")
    assert config.env_choice("SNNLAB_TEST_CHOICE", ("a", "b"), default="b") == "b"
    monkeypatch.setenv("SNNLAB_TEST_CHOICE", "a\n")
    assert config.env_choice("SNNLAB_TEST_CHOICE", ("a", "b"), default="b") == "a"


def test_the_mo_file_is_the_compilation_of_the_po_file():
    with open(PO, "rb") as file:
        catalogue = read_po(file)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    assert MO.read_bytes() == compiled.getvalue(), (
        "snnlab.mo is not the compilation of snnlab.po: run "
        "pybabel compile -d snnlab/locale -D snnlab -l zh_CN, and commit both")


def tr_messages(code: str) -> list[str]:
    """The messages of ``code``'s ``tr("...")`` calls (``tr`` by name or as ``i18n.tr``)."""
    found = []
    for node in sorted((n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)),
                       key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(node, ast.Call) and (
                getattr(node.func, "id", None) == "tr" or getattr(node.func, "attr", None) == "tr"):
            argument = node.args[0] if node.args else None
            assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), (
                f"tr() must be given the message itself, a string: {ast.unparse(node)}")
            found.append(argument.value)
    return found


def _used_messages() -> dict[str, str]:
    """Every message that goes through tr() in the package and in the lessons' code."""
    used = {}
    for module in sorted((ROOT / "snnlab").rglob("*.py")):
        for message in tr_messages(module.read_text()):
            used[message] = str(module.relative_to(ROOT))
    for lesson in sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb")):
        for cell in json.loads(lesson.read_text())["cells"]:
            if cell["cell_type"] == "code":
                code = "".join(cell["source"])
                lines = ["" if line.lstrip().startswith(("%", "!")) else line
                         for line in code.splitlines()]
                for message in tr_messages("\n".join(lines)):
                    used[message] = str(lesson.relative_to(ROOT))
    return used


def test_every_message_has_a_chinese_entry_and_every_entry_a_message():
    with open(PO, "rb") as file:
        catalogue = {m.id: m.string for m in read_po(file) if m.id}
    used = _used_messages()
    assert len(used) >= 20  # lesson 00's environment check and its own lines
    missing = {message: where for message, where in used.items() if not catalogue.get(message)}
    assert missing == {}, "messages without a Chinese entry in snnlab.po"
    unused = set(catalogue) - set(used)
    assert unused == set(), "entries of snnlab.po that no tr() call uses"
    for message, chinese in catalogue.items():  # the same {names} to fill in
        assert sorted(_fields(message)) == sorted(_fields(chinese)), message


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def test_the_tr_finder_finds_calls_and_refuses_a_computed_message():
    assert tr_messages('print(tr("a {x}").format(x=1)); i18n.tr("b"); f("tr(c)")') == [
        "a {x}", "b"]
    with pytest.raises(AssertionError, match="the message itself"):
        tr_messages('tr(f"{x} spikes")')


def test_the_environment_check_speaks_chinese_in_aligned_columns(chinese, capsys):
    environment.check()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("正常     Python      Python ")
    device = next(line for line in lines if "设备：" in line)
    # "设备" takes 4 of the 11 columns of the name: 7 spaces, then the message
    assert device.startswith("正常     设备        设备：")
    assert lines[-1] in ("一切就绪：从第 01 课开始吧。",
                         "请按上面“有问题”各行的方法解决，重启内核，再运行一次这个单元格。")


FIGURE = """
import warnings
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
import snnlab.i18n
snnlab.i18n.set_language({lang!r})
warnings.simplefilter("error")  # a missing glyph is a UserWarning: make it an error
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2], [0, -1, 1], label="膜电位 $U$")
ax.set_title("泄漏积分发放神经元：β = 0.9")
ax.set_xlabel("时间步 $t$")
ax.set_ylabel("脉冲计数 − 阈值 θ")
ax.legend()
fig.savefig({png!r}, dpi=60)
print(font_manager.findfont(font_manager.FontProperties(family=["sans-serif"])))
"""


def test_a_chinese_figure_draws_every_glyph_in_a_fresh_process(tmp_path):
    done = _python(FIGURE.format(lang="zh_CN", png=str(tmp_path / "zh.png")))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "missing" not in done.stderr
    assert done.stdout.strip().endswith("NotoSansCJKsc-Regular.otf")
    assert (tmp_path / "zh.png").read_bytes()[:4] == b"\x89PNG"
    # in English, matplotlib's own fonts have no Chinese: the same figure warns
    done = _python(FIGURE.format(lang="en", png=str(tmp_path / "en.png")))
    assert done.returncode == 1 and "missing from font" in done.stderr


def test_english_again_takes_the_chinese_font_out(chinese):
    import matplotlib

    from snnlab import fonts

    assert matplotlib.rcParams["font.sans-serif"][0] == fonts.CHINESE_FONT
    assert "DejaVu Sans" in matplotlib.rcParams["font.sans-serif"]  # the fallback stays
    i18n.set_language("en")
    assert fonts.CHINESE_FONT not in matplotlib.rcParams["font.sans-serif"]


def test_the_english_prose_finder_finds_sentences_and_leaves_terms():
    from chinese import english_prose, has_chinese

    assert english_prose("✗ beta_from_tau：you returned a tensor") == ["you returned a tensor"]
    assert english_prose("✓ check_beta：6 个用例全部通过") == []
    assert english_prose("返回了 tensor([1., 2.])，类型 float32，NotImplementedError") == []
    assert english_prose("写成 `return the membrane itself` 即可") == []
    assert has_chinese("膜电位 U") and not has_chinese("membrane U")


def test_width_counts_a_chinese_character_as_two_columns_and_pad_lines_up_both_scripts():
    assert i18n.width("LIF") == 3
    assert i18n.width("膜电位") == 6
    assert i18n.width("U 膜电位") == 8
    assert i18n.pad("阈值", 6) == "阈值  "
    assert i18n.pad("theta", 6) == "theta "
    assert i18n.pad("脉冲神经网络", 4) == "脉冲神经网络"  # never cut, only padded
    rows = [i18n.pad(name, 8) + "|" for name in ("膜电位", "U", "spikes")]
    assert {i18n.width(row) for row in rows} == {9}
