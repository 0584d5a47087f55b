"""Every lesson panel, built in Chinese, shows Chinese: its knobs' descriptions, its dropdowns'
choices, and every text of the figure it draws (titles, axis labels, legends, notes); the videos'
frames too. In English the same panels keep their English words."""

from __future__ import annotations

import matplotlib
import matplotlib.text
import pytest
import torch
from chinese import english_prose, has_chinese
from matplotlib.figure import Figure
from test_widgets import _digits, _digits_32, _lively_csnn, _small_autoencoder, _small_networks

from snnlab import i18n, plot
from snnlab.course import widgets
from snnlab.course.experiments import lesson10


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.fixture
def drawn(monkeypatch):
    """Every figure the panels turn into a PNG, in order (the static copy, then each re-draw)."""
    figures: list[Figure] = []
    to_png = widgets.panels.to_png

    def record(fig: Figure) -> bytes:
        figures.append(fig)
        return to_png(fig)

    monkeypatch.setattr(widgets.panels, "to_png", record)
    monkeypatch.setattr(widgets.panels, "display", lambda obj, **kwargs: None)
    return figures


def figure_texts(fig: Figure) -> list[str]:
    """Every non-empty text the figure draws (tick labels, titles, labels, legends, notes)."""
    fig.canvas.draw()  # the tick labels exist once drawn
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]


def control_texts(panel) -> list[str]:
    """The knobs' descriptions and the dropdowns' choices as the student reads them."""
    texts = []
    for control in panel.children:
        if getattr(control, "description", ""):
            texts.append(control.description)
        texts += [str(label) for label in getattr(control, "_options_labels", ())]
    return texts


def _panels() -> dict:
    """One panel of each lesson, built now (in the current language): name -> builder."""
    labels = [8, 1, 7]
    return {
        "01": lambda: widgets.encoding_explorer(_digits(), labels),
        "02": lambda: widgets.lif_explorer(),
        "03": lambda: widgets.surrogate_explorer(),
        "04": lambda: widgets.output_explorer(_small_networks(), _digits(), labels),
        "05": lambda: widgets.csnn_explorer(_lively_csnn(), _digits(), labels),
        "06": lambda: widgets.autoencoder_explorer(_small_autoencoder(), _digits_32(), labels),
        "07": lambda: widgets.event_explorer(_digits(), labels, num_steps=4),
        "08": lambda: widgets.neuron_explorer(),
        "09": lambda: widgets.stdp_explorer(),
        "10": lambda: widgets.conversion_explorer(lesson10.load()),
    }


def _assert_chinese(texts: list[str], where: str) -> None:
    assert any(has_chinese(text) for text in texts), f"{where}: no Chinese at all: {texts}"
    english = {text: english_prose(text) for text in texts if english_prose(text)}
    assert english == {}, f"{where}: English left"


@pytest.mark.filterwarnings("error:Glyph")  # a glyph missing from the fonts: a box, not text
@pytest.mark.parametrize("lesson", sorted(_panels()))
def test_each_lessons_panel_speaks_chinese(lesson, chinese, drawn):
    panel = _panels()[lesson]()
    _assert_chinese(control_texts(panel), f"lesson {lesson} knobs")
    for fig in drawn:  # the static copy and the panel's own first drawing
        _assert_chinese(figure_texts(fig), f"lesson {lesson} figure")


def test_the_knobs_and_choices_in_chinese_and_the_values_they_give(chinese, drawn):
    panel = widgets.encoding_explorer(_digits(), [8, 1, 7])
    assert control_texts(panel)[:5] == ["数字（序号）", "编码方式", "频率编码", "延迟编码（对数）",
                                        "延迟编码（线性）"]
    code = next(c for c in panel.children if getattr(c, "description", "") == "编码方式")
    code.label = "延迟编码（线性）"  # a student picks the Chinese choice: the code is the same
    assert code.value == "latency (linear)"
    titles = [t.get_text() for t in drawn[-1].axes[1].findobj(matplotlib.text.Text)]
    assert any(t.startswith("延迟编码（线性）：50 个时间步内共 ") and t.endswith(" 个脉冲")
               for t in titles), titles
    assert "输入（数字 8）" in figure_texts(drawn[-1])

    lif = widgets.lif_explorer()
    reset = next(c for c in lif.children if getattr(c, "description", "") == "复位方式")
    assert reset.options == (("减法复位", "subtract"), ("归零复位", "zero"))
    reset.label = "归零复位"
    assert reset.value == "zero"
    assert drawn[-1]._suptitle.get_text().endswith(
        "个脉冲；如果没有阈值，U 会稳定在 I / (1 - $\\beta$) = 1.50")


def test_the_csnn_layer_choice_names_layers_in_chinese_and_still_picks_the_layer(chinese, drawn):
    panel = widgets.csnn_explorer(_lively_csnn(), _digits(), [8, 1, 7])
    layer = next(c for c in panel.children if getattr(c, "description", "") == "层")
    assert [text for text, _ in layer.options] == [
        "第 1 层：12 张 12x12 的特征图", "第 2 层：64 张 4x4 的特征图", "输出层：10 个神经元"]
    layer.label = "输出层：10 个神经元"
    assert layer.value == list(_lively_csnn().layer_spikes(_digits()[:1]))[-1]
    assert drawn[-1]._suptitle.get_text() == "数字 #0：10 个神经元，时间步 5（共 0-5）"


def test_videos_count_time_steps_in_chinese(chinese):
    spikes = torch.zeros(5, 10)
    spikes[1, 2] = spikes[1, 6] = 1
    vote = widgets.vote_video(spikes, _digits()[0], label=6)
    assert vote.draw(0)[-1].get_text() == "时间步 0（共 0-4）：还没有脉冲"
    assert vote.draw(1)[-1].get_text() == "时间步 1（共 0-4）：并列：2, 6"
    _assert_chinese(figure_texts(vote.fig), "vote video")

    model = _lively_csnn()
    layers = {k: s[:, 0] for k, s in model.layer_spikes(_digits()[:1]).items()}
    maps = widgets.feature_map_video(_digits()[0], layers, label=8)
    maps.draw(5)
    texts = figure_texts(maps.fig)
    _assert_chinese(texts, "feature map video")
    assert "时间步 5（共 0-5）" in texts and "输入（标签 8）" in texts

    events = widgets.lesson07.saccade_recording(_digits()[0], 0.5, num_steps=3)
    clip = widgets.event_video(events, title=plot.digit_name(0, 8))
    assert clip.draw(2)[-1].get_text() == "测试集数字 #0（标签 8）\n时间步 2（共 0-2）"
    _assert_chinese(figure_texts(clip.fig), "event video")


def test_digit_names_and_the_firing_table_in_chinese(chinese):
    assert plot.digit_name(0, 8) == "测试集数字 #0（标签 8）"
    assert plot.digit_name(torch.tensor(3), torch.tensor(1), "digit") == "数字 #3（标签 1）"
    spikes = torch.zeros(4, 2, 3)  # [T, B, N]: neuron 0 never fires, neuron 2 always
    spikes[:, :, 2] = 1
    spikes[1, 0, 1] = 1
    header, row = widgets.firing_table({"lif1": spikes}).splitlines()
    assert header == "层       神经元数  发放率    死亡       饱和    单图静默  单图饱和"
    assert row == "lif1            3   0.375   33.3%      33.3%       50.0%     33.3%"
    # the columns line up: each right-aligned heading ends where its numbers end
    assert i18n.width(header) == len(row)


def test_the_english_panels_are_unchanged(drawn):
    assert i18n.language() == "en"
    panel = widgets.encoding_explorer(_digits(), [8, 1, 7])
    assert control_texts(panel)[:5] == ["digit (index)", "code", "rate", "latency (log)",
                                        "latency (linear)"]
    texts = figure_texts(drawn[-1])
    assert "input (digit 8)" in texts
    assert "spike count per pixel\n(white: the busiest pixel)" in texts
    assert any(t.startswith("rate: ") and t.endswith(" spikes in 50 steps") for t in texts)
    assert not any(has_chinese(t) for t in texts)
    widgets.csnn_explorer(_lively_csnn(), _digits(), [8, 1, 7])
    assert drawn[-1]._suptitle.get_text() == "digit #0: 12 maps of 12x12, time step 5 (of 0-5)"
    assert plot.digit_name(0, 8) == "test digit #0 (an 8)"
    assert widgets.firing_table({"a": torch.ones(2, 1, 3)}).splitlines()[0] == (
        "layer     neurons    rate    dead  saturated  silent/img  sat./img")


@pytest.mark.filterwarnings("error:Glyph")
def test_a_chinese_figure_draws_greek_minus_and_marks_that_the_chinese_font_lacks(chinese):
    from matplotlib import font_manager

    from snnlab import fonts

    fig = widgets.panels.new_figure(4, 2)
    ax = fig.add_subplot()
    ax.set_title("β = 0.9, θ = 1.0, U[t] − 1 ✗ ✓ 阈值")  # ✗ and ✓: from DejaVu Sans
    ax.set_xlabel(r"时间步 $t$, $\beta$")
    assert widgets.to_png(fig)[:4] == b"\x89PNG"
    found = font_manager.fontManager._find_fonts_by_props(
        font_manager.FontProperties(family=matplotlib.rcParams["font.family"]))
    assert [p.rsplit("/", 1)[-1] for p in found] == [fonts.CHINESE_FONT_FILE, "DejaVuSans.ttf"]
    i18n.set_language("en")
    assert list(matplotlib.rcParams["font.family"]) == ["sans-serif"]
