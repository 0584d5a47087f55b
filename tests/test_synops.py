"""The synaptic-operation counter of lesson 07, against counts done by hand."""

import pytest
import torch
from torch import nn

from snnlab import models, synops


def test_linear_counts_nonzero_inputs_times_fan_out():
    fc = nn.Sequential(nn.Linear(4, 3))
    x = torch.tensor([[[1.0, 0, 0, 1]], [[0, 0, 0, 0]], [[1.0, 1, 1, 0]]])  # T=3, B=1
    (layer,) = synops.count(fc, x)
    assert layer.name == "0" and layer.binary and layer.kind == "AC"
    assert layer.ops == 5 * 3  # 5 spikes, each reaching 3 outputs
    assert layer.ann_macs == 4 * 3  # one dense pass
    assert layer.nonzero == pytest.approx(5 / 12)


class EachStep(nn.Module):
    """A convolution applied to every step of [T, B, C, H, W]."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv

    def forward(self, x):
        return self.conv(x.flatten(0, 1))


def test_conv_counts_each_spike_under_every_window_that_covers_it():
    conv = EachStep(nn.Conv2d(2, 5, 3, padding=1))
    x = torch.zeros(1, 1, 2, 4, 4)
    x[0, 0, 0, 0, 0] = 1  # a corner: inside 4 of the 16 windows
    x[0, 0, 1, 1, 2] = 1  # inside: 9 windows
    (layer,) = synops.count(conv, x)
    assert layer.ops == (4 + 9) * 5
    assert layer.ann_macs == 16 * 5 * 2 * 9
    # brute force: every (output position, channel) adds each nonzero input in its window
    padded = torch.nn.functional.pad(x[0, 0], (1, 1, 1, 1))
    brute = sum(int((padded[:, i:i + 3, j:j + 3] != 0).sum()) for i in range(4) for j in range(4))
    assert layer.ops == brute * 5


def test_non_binary_inputs_are_macs_and_batches_are_averaged():
    fc = nn.Sequential(nn.Linear(4, 2))
    x = torch.tensor([[[0.5, 0, 0, 0], [0, 0, 0, 0]]])  # T=1, B=2
    (layer,) = synops.count(fc, x)
    assert not layer.binary and layer.kind == "MAC"
    assert layer.ops == 1 * 2 / 2  # per sample
    totals = synops.totals([layer])
    assert totals == {"AC": 0, "MAC": 1.0, "ann_MAC": 8.0}
    assert "MAC" in synops.table([layer]).splitlines()[-1]


def test_recurrent_snn_counts_and_both_forwards_agree():
    torch.manual_seed(0)
    net = models.RecurrentSNN(num_inputs=2 * 6 * 6, num_hidden=16)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(5)
    x = (torch.rand(7, 3, 2, 6, 6) < 0.2).float()
    layers = synops.count(net, x)
    assert [layer.name for layer in layers] == ["fc1", "rlif1.recurrent", "fc2"]
    assert layers[0].ops == pytest.approx(float(x.sum()) * 16 / 3)
    assert all(layer.binary for layer in layers)
    steps = synops.count(net, x, forward="forward_steps")
    assert [(a.name, a.ops, a.ann_macs) for a in layers] == [
        (b.name, b.ops, b.ann_macs) for b in steps]


def test_bad_arguments():
    with pytest.raises(TypeError, match="model"):
        synops.count("net", torch.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="time-first"):
        synops.count(nn.Linear(4, 2), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="forward"):
        synops.count(nn.Linear(4, 2), torch.zeros(1, 2, 4), forward="backward")
