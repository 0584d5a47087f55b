"""Lesson 04's pictures: time steps counted from 0, and ties shown as ties."""

import matplotlib.colors as mcolors
import torch

from snnlab import plot
from snnlab.course import widgets


def _digit() -> torch.Tensor:
    return torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(0))


def _title(video, t: int) -> str:
    artists = video.draw(t)
    return artists[-1].get_text()


def test_vote_video_counts_time_steps_from_zero():
    spikes = torch.zeros(25, 10)
    spikes[3:, 7] = 1
    video = widgets.vote_video(spikes, _digit(), label=7)
    assert _title(video, 0) == "time step 0 (of 0-24): no spikes yet"
    assert _title(video, 3) == "time step 3 (of 0-24): class 7 leads"
    assert _title(video, 24).startswith("time step 24 (of 0-24)")


def test_vote_video_names_a_tie():
    spikes = torch.zeros(5, 10)
    spikes[1, 2] = spikes[1, 6] = 1
    video = widgets.vote_video(spikes, _digit(), label=6)
    assert _title(video, 1) == "time step 1 (of 0-4): tie: 2, 6"


def _same(colour, expected: str) -> bool:
    return mcolors.to_hex(colour) == mcolors.to_hex(expected)


def test_output_layer_names_a_tie_and_colours_every_tied_class():
    spikes = torch.zeros(10, 10)
    spikes[::2, 2] = 1   # classes 2 and 6 fire 5 times each, class 9 once
    spikes[1::2, 6] = 1
    spikes[0, 9] = 1
    membrane = torch.zeros(10, 10)
    fig = widgets.draw_output_layer(spikes, membrane, _digit(), label=9)
    counts = fig.axes[-1]
    assert counts.get_title() == "tie 2, 6: argmax picks 2 ✗"
    bars = counts.patches
    assert _same(bars[2].get_facecolor(), plot.BAR) and _same(bars[6].get_facecolor(), plot.BAR)
    assert _same(bars[9].get_facecolor(), plot.HIGHLIGHT)
    assert not _same(bars[0].get_facecolor(), plot.BAR)


def test_output_layer_without_a_tie_keeps_the_plain_verdict():
    spikes = torch.zeros(10, 10)
    spikes[::2, 3] = 1
    spikes[:2, 8] = 1
    fig = widgets.draw_output_layer(spikes, torch.zeros(10, 10), _digit(), label=3)
    assert fig.axes[-1].get_title() == "prediction 3 ✓"
