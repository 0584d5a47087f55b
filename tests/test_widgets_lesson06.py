"""Lesson 06's widgets count time steps from 0, as the rest of the course does."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from snnlab.course import widgets  # noqa: E402


def test_spike_matrix_numbers_the_steps_from_zero():
    fig, ax = plt.subplots()
    widgets.draw_spike_matrix(torch.zeros(5, 8), ax)
    assert [label.get_text() for label in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    plt.close(fig)


def test_autoencoder_figure_numbers_the_steps_from_zero():
    reconstructions = torch.zeros(4, 32, 32)
    fig = widgets.draw_autoencoder(torch.zeros(32, 32), torch.zeros(4, 8), reconstructions)
    titles = [ax.get_title().split("\n")[0] for ax in fig.axes[2:]]
    assert titles == ["step 0", "step 1", "step 2", "step 3"]
    plt.close(fig)
