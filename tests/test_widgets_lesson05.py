"""Lesson 05's pictures: one tiling of the feature maps everywhere, each map numbered from 0,
spike counts in one colour map, time steps counted from 0 (video, explorer)."""

from __future__ import annotations

import matplotlib
import pytest
import torch
from matplotlib.figure import Figure

from snnlab import plot
from snnlab.course import widgets
from snnlab.course.widgets import lesson05


def _digit() -> torch.Tensor:
    image = torch.zeros(28, 28)
    image[6:22, 12:16] = 1.0
    return image


def _numbers(ax) -> dict[int, tuple[float, float]]:
    """{map index: (x, y)} of the numbers number_maps wrote on ``ax``."""
    return {int(t.get_text()): t.get_position() for t in ax.texts if t.get_text().isdigit()}


@pytest.mark.parametrize("channels, columns", [(1, 1), (4, 2), (12, 4), (64, 8), (10, 4)])
def test_map_columns_is_the_mosaic_default(channels, columns):
    assert lesson05.map_columns(channels) == columns
    maps = torch.zeros(channels, 3, 3)
    assert widgets.mosaic(maps).shape[1] == columns * 4 + 1
    with pytest.raises(ValueError, match="channels"):
        lesson05.map_columns(0)


def test_each_map_is_numbered_in_the_corner_of_its_own_tile():
    maps = torch.zeros(12, 5, 5)
    maps[7, 2, 3] = 1.0  # one lit pixel, in map 7
    fig = Figure()
    ax = fig.add_subplot()
    lesson05.show_maps(ax, maps, "gray", vmax=1)
    numbers = _numbers(ax)
    assert sorted(numbers) == list(range(12))
    tiled = widgets.mosaic(maps)
    row, column = (tiled == 1).nonzero()[0].tolist()  # where map 7's pixel landed
    x, y = numbers[7]
    # the number sits just above-left of its tile's first pixel, within one pixel of it
    left, top = column - 3, row - 2
    assert left - 1 <= x <= left and top - 1 <= y <= top
    assert all(numbers[c][1] < numbers[c + 4][1] for c in range(8))  # row by row, 4 per row
    assert numbers[0][0] < numbers[1][0] < numbers[2][0] < numbers[3][0]


def test_show_maps_checks_its_input_and_can_leave_numbers_out():
    fig = Figure()
    ax = fig.add_subplot()
    lesson05.show_maps(ax, torch.rand(3, 4, 4), plot.HEATMAP, numbered=False)
    assert _numbers(ax) == {}
    with pytest.raises(ValueError, match=r"\[C, H, W\]"):
        lesson05.show_maps(ax, torch.rand(4, 4), plot.HEATMAP)


def test_explorer_figure_counts_steps_from_zero_and_uses_the_course_heatmap():
    record = torch.zeros(5, 12, 12, 12)
    record[0, 3, 4, 4] = 1.0
    record[2, 3, 4, 4] = 1.0
    fig = widgets.draw_csnn_layer(_digit(), record, 0)
    assert fig._suptitle.get_text().endswith("time step 0 (of 0-4)")
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles[1] == "spikes at step 0: 1 of 1728 neurons"
    assert titles[2] == "spike count, step 0"
    counts = fig.axes[2].images[0]
    assert counts.get_cmap().name.startswith(plot.HEATMAP)
    assert sorted(_numbers(fig.axes[1])) == sorted(_numbers(fig.axes[2])) == list(range(12))
    later = widgets.draw_csnn_layer(_digit(), record, 4)
    assert later.axes[2].get_title() == "spike count, steps 0-4"
    assert float(torch.as_tensor(later.axes[2].images[0].get_array()).nan_to_num().max()) == 2


def test_explorer_output_layer_raster_is_labelled_from_zero():
    record = torch.zeros(6, 10)
    record[0, 4] = 1.0
    fig = widgets.draw_csnn_layer(_digit(), record, 0)
    raster = fig.axes[1]
    assert raster.get_xlabel() == "time step"
    assert raster.get_title() == "spikes, step 0"
    assert fig.axes[2].get_title() == "step 0: most spikes: class 4"


def test_video_numbers_every_map_and_draws_them_over_the_moving_maps():
    records = {"lif1": torch.zeros(3, 12, 12, 12), "lif2": torch.zeros(3, 64, 4, 4),
               "lif3": torch.zeros(3, 10)}
    records["lif1"][:, 0] = 1.0  # map 0 fires everywhere: its number must still be drawn
    video = widgets.feature_map_video(_digit(), records)
    layer1, layer2 = video.fig.axes[1], video.fig.axes[2]
    assert sorted(_numbers(layer1)) == list(range(12))
    assert sorted(_numbers(layer2)) == list(range(64))
    drawn = video.draw(1)
    numbers = [a for a in drawn if isinstance(a, matplotlib.text.Text) and a.get_text().isdigit()]
    first_number = drawn.index(numbers[0])
    assert len(numbers) >= 76 and first_number > drawn.index(layer1.images[0])
    clock = drawn[-1].get_text()
    assert clock == "time step 1 (of 0-2)"
