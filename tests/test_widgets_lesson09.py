"""Lesson 09's STDP panel: the pairing experiment is the STDP rule summed over every pair of
spikes, and the panel redraws for every setting."""

from __future__ import annotations

import ipywidgets
import pytest
import torch

from snnlab import stdp
from snnlab.course import widgets


def test_pairing_puts_the_post_spike_dt_after_each_pre_spike():
    pre, post = widgets.pairing(5, num_pairs=3, period=20)
    assert pre.shape == post.shape == (10 + 3 * 20, 1, 1)
    assert torch.nonzero(pre.flatten()).flatten().tolist() == [10, 30, 50]
    assert torch.nonzero(post.flatten()).flatten().tolist() == [15, 35, 55]
    _, post = widgets.pairing(-3, num_pairs=2, period=20)
    assert torch.nonzero(post.flatten()).flatten().tolist() == [7, 27]


@pytest.mark.parametrize("dt", [-12, -5, 0, 5, 12])
def test_the_weight_change_is_the_window_summed_over_every_pair(dt):
    rule = {"A_plus": 0.01, "A_minus": 0.012, "tau_plus": 20.0, "tau_minus": 15.0}
    run = widgets.pairing_run(dt, **rule)
    pre_times = torch.nonzero(run["pre"]).flatten().float()
    post_times = torch.nonzero(run["post"]).flatten().float()
    pairs = (post_times.view(-1, 1) - pre_times.view(1, -1)).flatten()  # all-to-all, t_post - t_pre
    expected = 0.5 + stdp.stdp_window(pairs, **rule).sum()
    assert run["weight"][-1].item() == pytest.approx(expected.item(), abs=1e-6)
    assert (run["weight"][-1] > 0.5) == (dt >= 0)     # pre before post (or with it) strengthens


def test_traces_jump_at_spikes_and_decay_between():
    run = widgets.pairing_run(5, 0.01, 0.01, 20.0, 20.0)
    first = int(torch.nonzero(run["pre"])[0])
    assert run["x_pre"][first] == 1.0
    assert run["x_pre"][first + 10].item() == pytest.approx(torch.exp(torch.tensor(-0.5)).item())


def test_panel_redraws(shown):
    panel = widgets.stdp_explorer()
    assert isinstance(panel, ipywidgets.interactive)
    first = panel.out.outputs[0]["data"]["image/png"]
    dt = next(w for w in panel.children if getattr(w, "description", "").startswith("dt"))
    dt.value = -7
    assert panel.out.outputs[0]["data"]["image/png"] != first


def test_bad_timing_is_named():
    with pytest.raises(ValueError, match="dt must lie within"):
        widgets.pairing(25)
    with pytest.raises(ValueError, match="weight"):
        widgets.pairing_run(5, 0.01, 0.01, 20.0, 20.0, weight=2.0)


def test_receptive_fields_draw_each_neuron_as_an_image_with_its_label():
    weight = torch.zeros(784, 3)
    weight[0, 0] = 1.0                              # neuron 0: the top-left pixel only
    weight[783, 2] = 2.0                            # neuron 2: the bottom-right pixel only
    fig = widgets.receptive_fields(weight, torch.tensor([7, 1, 4]), columns=2, title="three")
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (2 * 29 + 1, 2 * 29 + 1)
    assert grid[1, 1] == 1.0 and grid[1, 2] == 0.0                  # neuron 0, scaled to 1
    assert grid[29 + 28, 28] == 1.0                                  # neuron 2, row 1, column 0
    assert [t.get_text() for t in fig.axes[0].texts] == ["7", "1", "4"]
    with pytest.raises(ValueError, match="784"):
        widgets.receptive_fields(torch.zeros(10, 3))
    with pytest.raises(ValueError, match="one digit per neuron"):
        widgets.receptive_fields(weight, torch.tensor([1, 2]))
