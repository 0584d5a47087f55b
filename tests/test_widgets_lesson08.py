"""Lesson 08's neuron panel and figures: the traces are the library's neurons, the figures show
what their titles say, and the panel redraws for every setting."""

from __future__ import annotations

import math

import ipywidgets
import pytest
import torch
from matplotlib.figure import Figure

from snnlab.course import widgets
from snnlab.neurons import LIF


def test_stimuli_are_where_the_lesson_says():
    pulses = widgets.stimulus("pulses", 0.3)
    assert pulses.shape == (120,)
    assert torch.nonzero(pulses).flatten().tolist() == [10, 40, 43, 46]
    assert torch.allclose(pulses[pulses > 0], torch.tensor(0.3))
    step = widgets.stimulus("step", 0.4)
    assert torch.nonzero(step).flatten().tolist() == list(range(10, 80))


@pytest.mark.parametrize("kind", widgets.NEURONS)
def test_responses_are_the_library_neurons(kind):
    x = widgets.stimulus("step", 0.5)
    params = {"beta": 0.85, "alpha": 0.9, "rho": 0.9, "b": 0.4}
    response = widgets.neuron_response(kind, x, **params)
    neuron = widgets.make_neuron(kind, **params)
    with torch.no_grad():
        spikes, state = neuron.sequence(x.view(-1, 1))
    assert torch.equal(response["spikes"], spikes[:, 0])
    membrane = state if kind == "lif" else state.mem
    assert torch.equal(response["membrane"], membrane[:, 0])
    if kind == "alif":  # theta[t] = theta0 + b a[t], from the trace of past spikes
        assert torch.allclose(response["threshold"], 1.0 + 0.4 * state.a[:, 0])
        assert response["threshold"][79] > 1.5
    else:
        assert torch.all(response["threshold"] == 1.0)


def test_synaptic_current_smooths_and_delays_a_pulse():
    x = widgets.stimulus("pulses", 0.3)
    lif = widgets.neuron_response("lif", x, beta=0.9)["membrane"][:40]
    syn = widgets.neuron_response("synaptic", x, alpha=0.8, beta=0.9)
    assert int(lif.argmax()) == 10 and int(syn["membrane"][:40].argmax()) > 12
    # I_syn[t] = alpha I_syn[t-1] + X[t]: after the lone pulse it decays by 0.8 per step
    assert torch.allclose(syn["current"][11:15], 0.3 * 0.8 ** torch.arange(1, 5.0))


def test_adaptation_lengthens_the_intervals_and_b_zero_is_lif():
    x = widgets.stimulus("step", 0.4)
    lif = widgets.intervals(widgets.neuron_response("lif", x, beta=0.9)["spikes"])
    alif = widgets.intervals(widgets.neuron_response("alif", x, beta=0.9, rho=0.97, b=0.3)
                             ["spikes"])
    assert set(lif) == {3}
    assert alif[0] < alif[-1] and alif == sorted(alif)
    no_adaptation = widgets.neuron_response("alif", x, beta=0.9, b=0.0)["spikes"]
    assert torch.equal(no_adaptation, widgets.neuron_response("lif", x, beta=0.9)["spikes"])


def test_intervals():
    assert widgets.intervals(torch.tensor([0, 1, 0, 0, 1, 1, 0.0])) == [3, 1]
    assert widgets.intervals(torch.zeros(5)) == []


def test_f_i_curve_adaptation_lowers_the_steady_rate_and_stays_bounded():
    currents = torch.tensor([0.0, 0.4, 1.0])
    onset, steady = widgets.firing_rates("alif", currents, rho=0.97, b=0.3)
    lif_onset, lif_steady = widgets.firing_rates("lif", currents)
    assert onset[0] == steady[0] == lif_steady[0] == 0
    assert torch.all(steady[1:] < onset[1:]) and torch.all(steady[1:] < 0.6 * lif_steady[1:])
    assert torch.allclose(lif_onset[1:], lif_steady[1:], atol=0.06)  # LIF does not tire
    # a neuron driven at every step: theta < theta0 + b / (1 - rho)
    response = widgets.neuron_response("alif", torch.full((400,), 50.0), rho=0.9, b=0.5)
    assert response["threshold"].max() < 1 + 0.5 / (1 - 0.9)
    assert response["threshold"][-1] > 1 + 0.5 / (1 - 0.9) - 0.01


def test_comparison_figure_has_one_row_per_neuron_with_its_spike_count():
    fig = widgets.draw_comparison({"lif": {}, "alif": {"rho": 0.97, "b": 0.3}}, "step", 0.4)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    titles = [ax.get_title(loc="left") for ax in fig.axes[1:]]
    assert titles == ["LIF: 23 spikes", "adaptive threshold (ALIF): 11 spikes"]


def test_draw_neuron_titles_and_the_alpha_rule():
    fig = widgets.draw_neuron("alif", "step", 0.4, beta=0.9, rho=0.97, b=0.3)
    assert fig._suptitle.get_text() == ("adaptive threshold (ALIF): 11 spikes; steps between "
                                        "spikes: first 4, last 8")
    fig = widgets.draw_neuron("alpha", "pulses", 0.6, beta=0.9, alpha=0.8)   # alpha < beta
    assert "needs alpha > beta" in fig.texts[0].get_text() and not fig.axes


def test_explorer_redraws_and_enables_only_the_knobs_a_neuron_has(shown):
    panel = widgets.neuron_explorer()
    assert isinstance(panel, ipywidgets.interactive)
    controls = {w.description: w for w in panel.children if hasattr(w, "description")}
    neuron = controls["neuron"]
    assert [v for _, v in neuron.options] == list(widgets.NEURONS)
    assert not controls["b (adaptation strength)"].disabled           # ALIF by default
    assert controls["alpha (current)"].disabled
    first = panel.out.outputs[0]["data"]["image/png"]
    neuron.value = "synaptic"
    assert controls["b (adaptation strength)"].disabled and not controls["alpha (current)"].disabled
    assert panel.out.outputs[0]["data"]["image/png"] != first


@pytest.mark.parametrize("call, words", [
    (lambda: widgets.stimulus("ramp", 0.3), "stimulus"),
    (lambda: widgets.stimulus("step", -1.0), "strength"),
    (lambda: widgets.make_neuron("izhikevich"), "neuron"),
    (lambda: widgets.neuron_response("lif", torch.zeros(3, 2)), "one neuron's input"),
    (lambda: widgets.make_neuron("alpha", alpha=0.5, beta=0.9), "alpha > beta"),
    (lambda: widgets.firing_rates("lif", torch.ones(2), num_steps=50), "num_steps"),
])
def test_bad_input_is_named(call, words):
    with pytest.raises((ValueError, TypeError), match=words):
        call()


def test_the_lesson_s_time_constant_figure_numbers():
    # five neurons with their own beta = exp(-1/tau): each at 1/e of its input tau steps later
    taus = torch.tensor([2.0, 5.0, 10.0, 25.0, 50.0])
    five = LIF(beta=torch.exp(-1 / taus), threshold=100.0)
    x = torch.zeros(60, 1, 5)
    x[5] = 1.0
    with torch.no_grad():
        _, membrane = five.sequence(x)
    for n, tau in enumerate(taus.int().tolist()):
        assert membrane[5 + tau, 0, n].item() == pytest.approx(math.exp(-1), rel=1e-5)
