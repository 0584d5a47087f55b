"""The Diehl & Cook network: normalisation, the WTA step by hand, homeostasis, batches,
label votes on constructed cases, learning two patterns, bad input. Lesson 09."""

import math

import pytest
import torch

from snnlab import checks
from snnlab.competitive import Competitive, assign_labels, classify, normalize, wta_step
from snnlab.stdp import stdp_sequence


def test_normalize_sums_and_keeps_proportions():
    w = torch.tensor([[1.0, 0.0, 2.0], [3.0, 0.0, 2.0]])
    n = normalize(w, 2.0)
    torch.testing.assert_close(n, torch.tensor([[0.5, 0.0, 1.0], [1.5, 0.0, 1.0]]))
    torch.testing.assert_close(n.sum(0), torch.tensor([2.0, 0.0, 2.0]))  # an all-0 column stays
    assert w[0, 0] == 1.0  # not in place


def test_wta_step_by_hand():
    v = torch.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    spk_prev = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    current = torch.tensor([[1.0, 1.0, 3.0], [0.5, 0.2, 0.1]])
    spk, v = wta_step(v, spk_prev, current, torch.tensor([1.0, 1.0, 1.0]), beta=0.5,
                      inhibition=0.4)
    # sample 0: neuron 1 fired: it resets to 0, the others lose 0.4.
    # v = (0.5 + 1 - 0.4, 0 + 1, 0.25 + 3 - 0.4) = (1.1, 1.0, 2.85); over: 0.1, 0, 1.85 -> 2 wins
    # sample 1: v = current, nobody above 1: no spike
    torch.testing.assert_close(v, torch.tensor([[1.1, 1.0, 2.85], [0.5, 0.2, 0.1]]))
    assert spk.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]


def test_wta_step_hard_resets_the_whole_layer():
    v = torch.tensor([[1.0, 2.0, 0.5], [2.0, 0.0, 0.0]])
    spk_prev = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    current = torch.tensor([[1.0, 1.0, 3.0], [0.5, 0.2, 0.1]])
    spk, v = wta_step(v, spk_prev, current, torch.tensor([1.0, 1.0, 1.0]), beta=0.5,
                      inhibition=0.4, hard=True)
    # sample 0: someone fired, every neuron restarts from 0: v = current, neuron 2 wins.
    # sample 1: nobody fired, plain leak: v = 0.5 * (2, 0, 0) + current = (1.5, 0.2, 0.1).
    torch.testing.assert_close(v, torch.tensor([[1.0, 1.0, 3.0], [1.5, 0.2, 0.1]]))
    assert spk.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_wta_step_one_winner_even_if_many_cross():
    spk, _ = wta_step(torch.zeros(1, 4), torch.zeros(1, 4), torch.tensor([[5.0, 7.0, 6.0, 0.0]]),
                      torch.tensor([1.0, 1.0, 1.0, 1.0]), beta=0.9, inhibition=1.0)
    assert spk.tolist() == [[0.0, 1.0, 0.0, 0.0]]


def small_net(**settings):
    base = {"num_inputs": 4, "num_neurons": 3, "num_steps": 30, "threshold": 1.0,
            "input_scale": 1.0, "tau_mem": 5.0, "weight_sum": 2.0, "min_spikes": 0,
            "tau_theta": 1e30}
    return Competitive(**{**base, **settings})


def test_present_without_learning_changes_nothing_and_batches_agree():
    net = small_net(seed=3)
    spikes = (torch.rand(30, 5, 4, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    weight, theta = net.weight.clone(), net.theta.clone()
    together = net.present(spikes, learn=False)
    alone = torch.cat([net.present(spikes[:, b:b + 1], learn=False) for b in range(5)])
    assert torch.equal(net.weight, weight) and torch.equal(net.theta, theta)
    assert together.sum() > 0 and (together.sum(1) <= 30).all()  # one winner a step at most
    torch.testing.assert_close(together, alone)


def test_learning_raises_theta_per_spike_and_normalises():
    net = small_net(theta_plus=0.25, seed=4)
    spikes = (torch.rand(30, 5, 4, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    counts = net.present(spikes, learn=True)
    assert counts.sum() > 0
    # tau_theta huge: no decay, theta = theta_plus * spikes of the neuron in the whole batch
    torch.testing.assert_close(net.theta, 0.25 * counts.sum(0))
    torch.testing.assert_close(net.weight.sum(0), torch.full((3,), 2.0))
    assert (net.weight >= 0).all()


def test_update_at_the_end_sums_the_steps_changes_on_fixed_weights():
    # update="end": the weights and theta stay fixed while the batch is shown, so the spikes
    # are those of learn=False, and the change is STDP's summed over the steps, then normalised
    net = small_net(seed=5, update="end", theta_plus=0.25, A_plus=0.002, A_minus=0.001,
                    weight_sum=1.2, threshold=0.5)
    spikes = (torch.rand(30, 5, 4, generator=torch.Generator().manual_seed(3)) < 0.5).float()
    weight = net.weight.clone()
    v = spk = torch.zeros(5, 3)
    post = []
    beta = math.exp(-1 / net.tau_mem)
    for t in range(30):  # the layer by hand, with the fixed weights
        spk, v = wta_step(v, spk, net.input_scale * spikes[t] @ weight,
                          torch.full((3,), net.threshold), beta, net.inhibition)
        post.append(spk)
    post = torch.stack(post)
    counts = net.present(spikes, learn=True)
    torch.testing.assert_close(counts, post.sum(0))
    torch.testing.assert_close(net.theta, 0.25 * counts.sum(0))
    # with no weight at a bound, summing the steps' changes = applying them one by one
    changed = stdp_sequence(weight, spikes, post, A_plus=0.002, A_minus=0.001,
                            tau_plus=net.tau_plus, tau_minus=net.tau_minus)
    assert ((changed > 0) & (changed < 1)).all()
    torch.testing.assert_close(net.weight, normalize(changed, 1.2))
    assert counts.sum() > 10  # spikes enough that something was learned


def test_learning_separates_two_patterns_and_the_votes_name_them():
    # two disjoint patterns over 8 inputs; 2 neurons start alike. Without labels, each neuron
    # comes to own one pattern; labels then name them and the votes classify perfectly.
    patterns = torch.tensor([[1.0] * 4 + [0.0] * 4, [0.0] * 4 + [1.0] * 4])
    net = Competitive(num_inputs=8, num_neurons=2, num_steps=40, gain=0.5, threshold=2.0,
                      input_scale=1.0, tau_mem=10.0, inhibition=5.0, theta_plus=0.2,
                      tau_theta=200.0, A_plus=0.05, A_minus=0.01, weight_sum=2.0, seed=0)
    generator = torch.Generator().manual_seed(0)
    for i in range(40):
        net.run(patterns[i % 2:i % 2 + 1], learn=True, generator=generator)
    own = net.weight[:4].sum(0) / 2.0  # share of each neuron's weight on pattern 0
    assert sorted(own.round(decimals=1).tolist()) == [0.0, 1.0]
    images = patterns.repeat(10, 1)
    labels = torch.tensor([3, 7]).repeat(10)
    counts = net.run(images, learn=False, generator=generator)
    assignments = assign_labels(counts, labels)
    assert sorted(assignments.tolist()) == [3, 7]
    assert torch.equal(classify(counts, assignments), labels)


def test_assign_labels_by_hand():
    counts = torch.tensor([[4.0, 0.0, 1.0, 0.0],   # class 0
                           [2.0, 0.0, 3.0, 0.0],   # class 0
                           [1.0, 5.0, 3.0, 0.0],   # class 2
                           [0.0, 1.0, 0.0, 0.0]])  # class 1
    labels = torch.tensor([0, 0, 2, 1])
    # mean rates: neuron 0: (3, 0, 1) -> 0; neuron 1: (0, 1, 5) -> 2;
    # neuron 2: (2, 0, 3) -> 2; neuron 3 never fired -> 0
    assert assign_labels(counts, labels, num_classes=3).tolist() == [0, 2, 2, 0]


def test_classify_by_hand():
    assignments = torch.tensor([0, 2, 2, 1])
    counts = torch.tensor([[3.0, 1.0, 1.0, 0.0],    # votes: 0: 3, 1: 0, 2: 1  -> 0
                           [0.0, 4.0, 0.0, 1.0],    # 0: 0, 1: 1, 2: 2        -> 2
                           [0.0, 0.0, 0.0, 2.0],    # 0: 0, 1: 2, 2: 0        -> 1
                           [0.0, 0.0, 0.0, 0.0]])   # a tie: the lowest class  -> 0
    assert classify(counts, assignments, num_classes=4).tolist() == [0, 2, 1, 0]


def test_classify_class_without_neurons_gets_no_vote():
    assert classify(torch.tensor([[1.0, 2.0]]), torch.tensor([4, 4]), 5).tolist() == [4]


@pytest.mark.parametrize("call, error, match", [
    (lambda: normalize(torch.tensor([[-1.0, 1.0]]), 1.0), ValueError, "no negative value"),
    (lambda: normalize(torch.ones(3), 1.0), ValueError, r"\[num_inputs, num_neurons\]"),
    (lambda: normalize(torch.ones(2, 2), 0.0), ValueError, "total must be > 0"),
    (lambda: wta_step(torch.zeros(2, 3), torch.zeros(2, 2), torch.zeros(2, 3),
                      torch.ones(3), 0.5, 1.0), ValueError, "spk_prev must have the input's"),
    (lambda: wta_step(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3),
                      torch.ones(3), 1.5, 1.0), ValueError, r"beta must be in \[0, 1\]"),
    (lambda: wta_step(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3),
                      torch.ones(4), 0.5, 1.0), ValueError, "threshold of shape"),
    (lambda: Competitive(tau_plus=-20.0), ValueError, "tau_plus must be > 0"),
    (lambda: Competitive(tau_theta=0), ValueError, "tau_theta must be > 0"),
    (lambda: Competitive(inhibition=-1.0), ValueError, "inhibition must be finite and >= 0"),
    (lambda: Competitive(bounds="none"), ValueError, "bounds must be one of"),
    (lambda: Competitive(hard_wta=1), TypeError, "hard_wta must be True"),
    (lambda: Competitive(update="batch"), ValueError, "update must be one of"),
    (lambda: Competitive(num_neurons=0), ValueError, "num_neurons must be a positive int"),
    (lambda: small_net().run(torch.rand(2, 5), learn=True), ValueError,
     r"images must be \[batch, num_inputs = 4\]"),
    (lambda: small_net().run(torch.rand(2, 4) + 1, learn=True), ValueError, r"\[0, 1\]"),
    (lambda: small_net().run(torch.rand(2, 4), learn=1), TypeError, "learn must be True"),
    (lambda: small_net().present(torch.zeros(2, 4), learn=False), ValueError,
     r"input_seq must be \[num_steps, batch"),
    (lambda: small_net().present(torch.full((2, 1, 4), float("nan")), learn=False),
     checks.NonFiniteError, "input_seq holds NaN"),
    (lambda: assign_labels(torch.ones(3, 2), torch.tensor([0, 1])), ValueError,
     r"labels must be \[num_images = 3\]"),
    (lambda: assign_labels(torch.ones(2, 2), torch.tensor([0, 10])), ValueError,
     r"labels must lie in \[0, 10\)"),
    (lambda: assign_labels(torch.ones(2, 2), torch.tensor([0.0, 1.0])), ValueError,
     "integer classes"),
    (lambda: classify(torch.ones(2, 3), torch.tensor([0, 1])), ValueError,
     r"assignments must be \[num_neurons = 3\]"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
