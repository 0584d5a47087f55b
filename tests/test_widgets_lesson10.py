"""Lesson 10's figures and explorer: an IF neuron's rate against the bound theta / T, and the
stored study's accuracy and energy at every T."""

from __future__ import annotations

import ipywidgets
import numpy as np
import pytest
import torch

from snnlab import conversion
from snnlab.course import widgets
from snnlab.course.experiments import lesson10 as study_module


@pytest.fixture(scope="module")
def study():
    return study_module.load()


@pytest.mark.parametrize("num_steps", [1, 4, 32, 256])
def test_subtraction_keeps_the_error_under_theta_over_t_and_zero_reset_does_not(num_steps):
    currents = torch.linspace(0, 1, 101, dtype=torch.float64)
    error = currents - widgets.if_rates(currents, num_steps)
    assert (error >= -1e-12).all() and (error <= 1 / num_steps + 1e-12).all()
    lost = currents - widgets.if_rates(currents, num_steps, reset="zero")
    if num_steps >= 4:   # I just below theta: a spike every 2 steps, the excess thrown away
        assert lost.max() > 0.4
    assert widgets.if_rates(torch.tensor([-1.0, 3.0]), num_steps).tolist() == [0.0, 1.0]


def test_the_zero_reset_rate_by_hand():
    # I = 0.6, theta = 1: V = 0.6, 1.2 (spike, V = 0), 0.6, 1.2 (spike) ... one spike in 2 steps
    assert widgets.if_rates(torch.tensor([0.6]), 8, reset="zero").item() == 0.5
    # reset by subtraction keeps the 0.2 above theta: 3 spikes in 5 steps
    assert widgets.if_rates(torch.tensor([0.6]), 5).item() == pytest.approx(0.6)


def test_curves_are_the_stored_study(study):
    data = widgets.curves(study)
    seeds = study["results"]
    for balancing in study_module.BALANCINGS:
        runs = [next(r for r in s["snn"] if r["balancing"] == balancing) for s in seeds]
        k = runs[0]["steps"].index(32)
        assert data[balancing]["mean"][k] == pytest.approx(np.mean([r["accuracy"][k]
                                                                    for r in runs]))
        macs = np.mean([r["ops"]["conv1_MAC"][k] for r in runs])
        acs = np.mean([r["ops"]["conv2_AC"][k] + r["ops"]["fc_AC"][k] for r in runs])
        assert data[balancing]["uJ"][k] == pytest.approx((4.6 * macs + 0.9 * acs) / 1e6)
    assert float(data["ANN"]["uJ"]) == pytest.approx(4.6 * 1_411_840 / 1e6)
    # the lesson's claims: within 0.2 points of the ANN at T = 32; dearer than it from T = 64
    for balancing in study_module.BALANCINGS:
        k = list(data[balancing]["steps"]).index(32)
        assert float(data["ANN"]["mean"]) - data[balancing]["mean"][k] < 0.002
        assert data[balancing]["uJ"][k + 1] > float(data["ANN"]["uJ"]) > data[balancing]["uJ"][k]


def test_figure_title_and_explorer(study, shown):
    fig = widgets.draw_conversion(study, 32, "max")
    assert fig._suptitle.get_text().startswith("max balancing, T = 32: ")
    with pytest.raises(ValueError, match="one of the stored T"):
        widgets.draw_conversion(study, 33, "max")
    panel = widgets.conversion_explorer(study)
    assert isinstance(panel, ipywidgets.interactive)
    first = panel.out.outputs[0]["data"]["image/png"]
    slider = next(w for w in panel.children if isinstance(w, ipywidgets.SelectionSlider))
    assert list(slider.options) == conversion.powers_of_two(256)
    slider.value = 8
    assert panel.out.outputs[0]["data"]["image/png"] != first


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="reset"):
        widgets.if_rates(torch.ones(2), 4, reset="none")
    with pytest.raises(ValueError, match="num_steps"):
        widgets.if_rates(torch.ones(2), 0)
