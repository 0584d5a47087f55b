"""Lessons 04-07 in Chinese: what their own code cells print and draw, the experiments' tables,
the recipes table and the synaptic-operation table go through ``tr`` and come out Chinese,
aligned by display width; in English they are what the English lessons stored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from babel.messages.pofile import read_po
from chinese import english_prose, has_chinese
from test_i18n import PO, tr_messages
from torch import nn

from snnlab import i18n, synops
from snnlab.course import recipes
from snnlab.course.experiments import lesson05, lesson06, lesson07

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ("04_fc_snn_mnist", "05_csnn_mnist", "06_spiking_autoencoder", "07_event_digits")


@pytest.fixture
def chinese():
    """The language is Chinese during the test, English again after it."""
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def _cells(lesson: str) -> dict[str, dict]:
    path = ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb"
    return {c["id"]: c for c in json.loads(path.read_text())["cells"]}


def _stored_text(lesson: str, cell_id: str) -> str:
    """What the English instructor edition printed in that cell when it was last executed."""
    return "".join("".join(o["text"]) for o in _cells(lesson)[cell_id]["outputs"]
                   if o["output_type"] == "stream")


def _lesson_messages(lesson: str) -> list[str]:
    found = []
    for cell in _cells(lesson).values():
        if cell["cell_type"] == "code":
            code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                             for line in "".join(cell["source"]).splitlines())
            found += tr_messages(code)
    return found


def _catalogue() -> dict[str, str]:
    with open(PO, "rb") as file:
        return {m.id: m.string for m in read_po(file) if m.id}


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_message_of_the_lessons_code_has_a_chinese_entry(lesson):
    messages = _lesson_messages(lesson)
    assert len(messages) >= 25, lesson  # the lesson's prints, tables and figure labels
    catalogue = _catalogue()
    missing = [m for m in messages if not catalogue.get(m)]
    assert missing == []
    english_left = {m: catalogue[m] for m in messages if english_prose(catalogue[m])}
    assert english_left == {}
    # a message with words in it reads Chinese (symbols and names such as "ANN" may stay)
    for message in messages:
        if re.search(r"[a-z]{3,} [a-z]{3,}", message) and "`" not in message:
            assert has_chinese(catalogue[message]), message


def test_the_lessons_code_fills_each_message_with_its_own_fields():
    """tr("... {x} ...").format(x=...): every field named, none extra (a KeyError otherwise)."""
    import ast
    import string

    for lesson in LESSONS:
        for cell in _cells(lesson).values():
            if cell["cell_type"] != "code":
                continue
            tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                       for line in "".join(cell["source"]).splitlines()))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "format" and isinstance(node.func.value, ast.Call)
                        and getattr(node.func.value.func, "id", None) == "tr"):
                    message = node.func.value.args[0].value
                    fields = {name for _, name, _, _ in string.Formatter().parse(message) if name}
                    assert fields == {k.arg for k in node.keywords}, (lesson, cell["id"], message)


def _lesson05_results() -> dict:
    run = {"accuracy": 0.9, "dead maps 1": 0.25, "dead maps 2": 0.125, "dead neurons 1": 0.5,
           "dead neurons 2": 0.75, "saturated neurons 1": 0.0, "saturated neurons 2": 0.01,
           "cpu_seconds": 100.0}
    other = {**run, "accuracy": 0.8, "dead maps 1": 0.0, "cpu_seconds": 50.0}
    return {"seeds": [0, 1], "results": {"CSNN": [run, other],
                                         "CSNN + regulariser": [other, other]}}


def _right_edges(table: str) -> set[int]:
    """The display width of every line: one number when every column is padded alike."""
    return {i18n.width(line) for line in table.splitlines()}


def test_lesson05_table_in_chinese_aligned_with_the_right_numbers(chinese):
    text = lesson05.table(_lesson05_results(), columns=("accuracy", "dead maps 1", "cpu_seconds"))
    head, plain, regular = text.splitlines()
    assert "准确率 %" in head and "第 1 层死特征图 %" in head and "训练 CPU 秒数" in head
    assert plain.startswith("CSNN ") and "85.0 (80.0-90.0)" in plain and "12.5 (0.0-25.0)" in plain
    assert "75 (50-100)" in plain
    assert regular.startswith("CSNN + 正则项") and "80.0 (80.0-80.0)" in regular
    assert len(_right_edges(text)) == 1  # each column ends where its head ends
    # the columns line up: each number ends below the end of its head
    for cell, row in (("12.5 (0.0-25.0)", plain), ("0.0 (0.0-0.0)", regular)):
        end = i18n.width(row[:row.index(cell) + len(cell)])
        assert end == i18n.width(head[:head.index("%", head.index("死特征图")) + 1])
    assert english_prose(text) == []


def test_lesson05_table_in_english_is_what_the_lesson_stored():
    stored = _stored_text("05_csnn_mnist", "a24ce74a").splitlines()[1:]
    text = lesson05.table(lesson05.load(), columns=("accuracy", "cpu_seconds"),
                          conditions=("CSNN", "ANN (ReLU)"))
    assert text.splitlines() == stored


def test_lesson07_table_in_chinese_aligned_with_the_right_numbers(chinese):
    runs = [{"seed": s, "accuracy": a} for s, a in enumerate([0.5, 0.7, 0.6])]
    text = lesson07.table({"results": {"order": {"first_spike": runs, "elman": runs}}}, "order")
    head, first, elman = text.splitlines()
    assert head.split() == ["网络", "平均", "标准差", "最小", "-", "最大", "各随机种子"]
    assert first.startswith("V = 0，首脉冲读出") and elman.startswith("Elman RNN（tanh，ANN）")
    assert "60.0%" in first and "50.0% - 70.0%" in first and "50.0%  70.0%  60.0%" in first
    assert len(_right_edges(text)) == 1
    assert lesson07.names()["summed_mlp"] == "对事件求和的 ReLU 网络"


def test_lesson07_tables_in_english_are_what_the_lesson_stored():
    study = lesson07.load()
    assert lesson07.table(study, "order") + "\n" == _stored_text("07_event_digits", "8a496cd6")
    assert lesson07.table(study, "digit") + "\n" == _stored_text(
        "07_event_digits", "32110bb3").split("\n\n", 1)[1]
    assert lesson07.names()["recurrent"] == "recurrent SNN"


def test_lesson06_variant_names_follow_the_language(chinese):
    assert list(lesson06.names()) == list(lesson06.VARIANTS)
    assert lesson06.names()["last step"] == "最后一步"
    i18n.set_language("en")
    assert lesson06.names() == {name: name for name in lesson06.VARIANTS}


def test_recipes_table_in_chinese_and_english(chinese):
    text = recipes.table()
    head = text.splitlines()[0]
    assert head.split()[:4] == ["名称", "模型", "损失", "指标"]
    # every column starts at the same display column in every row (left-aligned)
    starts = [i18n.width(head[:head.index(word)]) for word in ("模型", "损失", "峰值学习率")]
    for line, name in zip(text.splitlines()[1:], recipes.RECIPES, strict=True):
        recipe = recipes.RECIPES[name]
        for start, value in zip(starts, (recipe.model.__name__, recipe.loss.__name__,
                                         f"{recipe.lr:g}"), strict=True):
            assert i18n.width(line[:line.index(value, len(name))]) == start, (line, value)
    i18n.set_language("en")
    assert recipes.table() + "\n" == _stored_text("04_fc_snn_mnist", "96283c20")


def _layers() -> list[synops.LayerOps]:
    fc = nn.Sequential(nn.Linear(4, 3))
    x = torch.tensor([[[1.0, 0, 0, 1]], [[0, 0, 0, 0]], [[1.0, 1, 1, 0]]])  # T=3, B=1: 5 spikes
    return synops.count(fc, x)


def test_synops_table_in_chinese(chinese):
    head, row, total = synops.table(_layers()).splitlines()
    assert head.split() == ["层", "非零输入", "SNN", "操作数", "类型", "ANN", "MAC", "数"]
    assert row.split() == ["0", "41.7%", "15", "AC", "12"]
    assert total.split() == ["合计", "15", "AC", "12"]
    assert len(_right_edges("\n".join((head, row, total)))) == 1


def test_synops_table_in_english_is_unchanged():
    assert synops.table(_layers()).splitlines() == [
        "layer  inputs != 0  SNN ops  kind  ANN MACs",
        "0            41.7%       15    AC        12",
        "total                 15 AC              12"]


def test_lesson06_run_reports_each_run_in_the_language(chinese, capsys):
    torch.set_num_threads(1)
    tiny = {"train_images": 32, "epochs": 1, "batch_size": 32, "lr": 3e-3, "test_images": 20}
    results = lesson06.run(seeds=(0,), settings=tiny, variants=["ANN (ReLU)"])
    result = results["runs"]["ANN (ReLU)"][0]
    line = capsys.readouterr().out.strip()
    assert line == (f"ANN（ReLU）  随机种子 0：测试 MSE {result['test_mse']:.4f}，"
                    f"CPU {result['cpu_seconds']:.0f} 秒")
    assert i18n.width(line[:line.index("随机种子")]) == 13  # the name padded to 12 columns
    i18n.set_language("en")
    lesson06.run(seeds=(0,), settings=tiny, variants=["ANN (ReLU)"])
    assert capsys.readouterr().out.startswith("ANN (ReLU)   seed 0: test MSE ")
