"""The synaptic-operation counter of lesson 07, against counts done by hand."""

import copy

import pytest
import torch
from torch import nn

from snnlab import models, synops


class EachStep(nn.Module):
    """A stateless layer applied to every step of [T, B, ...], time-first in and out."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x.flatten(0, 1)).unflatten(0, x.shape[:2])


def fan_out_by_brute_force(layer, x):
    """Sum over the nonzero entries j of x [N, ...] of how many outputs j reaches: the layer
    with every weight 1 and no bias, run on j alone (a one-hot input), summed."""
    ones = copy.deepcopy(layer)
    with torch.no_grad():
        ones.weight.fill_(1.0)
        if ones.bias is not None:
            ones.bias.zero_()
        total = 0.0
        for index in x.nonzero():
            one_hot = torch.zeros_like(x[:1])
            one_hot[(0, *index[1:])] = 1.0
            total += float(ones(one_hot).sum())
    return total


def test_linear_counts_nonzero_inputs_times_fan_out():
    fc = nn.Sequential(nn.Linear(4, 3))
    x = torch.tensor([[[1.0, 0, 0, 1]], [[0, 0, 0, 0]], [[1.0, 1, 1, 0]]])  # T=3, B=1
    (layer,) = synops.count(fc, x)
    assert layer.name == "0" and layer.binary and layer.kind == "AC"
    assert layer.ops == 5 * 3  # 5 spikes, each reaching 3 outputs
    assert layer.ann_macs == 4 * 3  # one dense pass
    assert layer.nonzero == pytest.approx(5 / 12)
    # the same sample 6 times: the same numbers per sample
    (many,) = synops.count(fc, x.expand(3, 6, 4))
    assert (many.ops, many.ann_macs, many.nonzero) == (layer.ops, layer.ann_macs, layer.nonzero)


def test_a_bare_layer_is_counted_too():
    (layer,) = synops.count(nn.Linear(4, 3), torch.ones(2, 5, 4))  # T=2, B=5, all spiking
    assert layer.name == "Linear" and layer.ops == 2 * 4 * 3 and layer.ann_macs == 12


def test_conv2d_counts_each_spike_under_every_window_that_covers_it():
    conv = EachStep(nn.Conv2d(2, 5, 3, padding=1))
    x = torch.zeros(1, 1, 2, 4, 4)
    x[0, 0, 0, 0, 0] = 1  # a corner: inside 4 of the 16 windows
    x[0, 0, 1, 1, 2] = 1  # inside: 9 windows
    (layer,) = synops.count(conv, x)
    assert layer.ops == (4 + 9) * 5
    assert layer.ann_macs == 16 * 5 * 2 * 9  # 16 windows x 5 outputs x 2 x 3 x 3 weights
    # brute force: every (output position, channel) adds each nonzero input in its window
    padded = torch.nn.functional.pad(x[0, 0], (1, 1, 1, 1))
    brute = sum(int((padded[:, i:i + 3, j:j + 3] != 0).sum()) for i in range(4) for j in range(4))
    assert layer.ops == brute * 5


def test_conv1d_by_hand():
    conv = EachStep(nn.Conv1d(2, 4, 3, padding=1))
    x = torch.zeros(1, 1, 2, 5)
    x[0, 0, 0, 0] = 1  # the first position: inside 2 of the 5 windows
    x[0, 0, 1, 2] = 1  # the middle: 3 windows
    (layer,) = synops.count(conv, x)
    assert layer.ops == (2 + 3) * 4
    assert layer.ann_macs == 5 * 4 * 2 * 3  # 5 windows x 4 outputs x 2 x 3 weights


def test_transposed_convolutions_by_hand():
    # kernel 3, stride 2, padding 1, output_padding 1 (the autoencoder's decoder): 2 -> 4.
    # Input position 0 is spread over outputs -1, 0, 1 (2 inside), position 1 over 1, 2, 3.
    up1 = EachStep(nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1, output_padding=1))
    x = torch.zeros(1, 1, 2, 2)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = 1
    (layer,) = synops.count(up1, x)
    assert layer.ops == (2 + 3) * 3
    assert layer.ann_macs == 2 * 2 * 3 * 3  # 2 inputs x 2 channels x 3 outputs x 3 weights

    up2 = EachStep(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1))
    x = torch.zeros(1, 1, 2, 2, 2)
    x[0, 0, 0, 0, 0] = 1  # a corner: 2 x 2 of its 3 x 3 outputs are inside the 4 x 4 output
    x[0, 0, 1, 1, 1] = 1  # the other corner: all 3 x 3
    (layer,) = synops.count(up2, x)
    assert layer.ops == (4 + 9) * 3
    assert layer.ann_macs == 4 * 2 * 3 * 9


@pytest.mark.parametrize("layer, shape", [
    (nn.Linear(6, 5), (6,)),
    (nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (4, 9)),
    (nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 7, 6)),
    (nn.Conv2d(4, 4, (2, 3), padding=(1, 0), groups=4), (4, 5, 5)),
    (nn.ConvTranspose1d(2, 4, 4, stride=3, padding=2, groups=2), (2, 5)),
    (nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (3, 3, 4)),
    (nn.ConvTranspose2d(2, 2, 3, stride=1, padding=2, dilation=2), (2, 4, 4)),
])
def test_every_layer_type_against_brute_force_per_sample(layer, shape):
    generator = torch.Generator().manual_seed(1)
    x = (torch.rand(3, 4, *shape, generator=generator) < 0.3).float()  # T = 3, B = 4 samples
    (counted,) = synops.count(EachStep(layer), x)
    each = [fan_out_by_brute_force(layer, x[:, b]) for b in range(4)]  # each sample's steps
    assert counted.binary and counted.ops == pytest.approx(sum(each) / 4)
    (alone,) = synops.count(EachStep(layer), x[:, :1])  # a batch of one: the first sample
    assert alone.ops == pytest.approx(each[0])
    (copies,) = synops.count(EachStep(layer), x[:, :1].expand(3, 5, *shape))
    assert (copies.ops, copies.ann_macs) == (alone.ops, alone.ann_macs) == (alone.ops,
                                                                             counted.ann_macs)


def test_non_binary_inputs_are_macs_and_batches_are_averaged():
    fc = nn.Sequential(nn.Linear(4, 2))
    x = torch.tensor([[[0.5, 0, 0, 0], [0, 0, 0, 0]]])  # T=1, B=2
    (layer,) = synops.count(fc, x)
    assert not layer.binary and layer.kind == "MAC"
    assert layer.ops == 1 * 2 / 2  # per sample
    totals = synops.totals([layer])
    assert totals == {"AC": 0, "MAC": 1.0, "ann_MAC": 8.0}
    assert "MAC" in synops.table([layer]).splitlines()[-1]


def test_static_images_are_counted_per_sample_whatever_the_batch():
    torch.manual_seed(0)
    net = models.FCSNN(num_hidden=16, num_steps=6).eval()
    image = torch.rand(1, 1, 28, 28)
    image[0, 0, :10] = 0  # 504 pixels not 0
    one = synops.count(net, image)
    four = synops.count(net, image.repeat(4, 1, 1, 1))
    assert [(a.name, a.ops, a.ann_macs) for a in one] == [(b.name, b.ops, b.ann_macs)
                                                          for b in four]
    fc1, fc2 = one
    # fc1 sees the image once (the same current at every step): a MAC per pixel and synapse
    assert not fc1.binary and fc1.ops == 504 * 16 and fc1.ann_macs == 784 * 16
    # fc2 sees the hidden spikes of all 6 steps: an AC per spike and output
    with torch.no_grad():
        hidden = net.lif1.spikes(net.fc1(image.flatten(1)), num_steps=6)
    assert hidden.sum() > 0
    assert fc2.binary and fc2.ops == float(hidden.sum()) * 10 and fc2.ann_macs == 16 * 10
    # the step loop runs fc1 at every step, and says so
    steps = synops.count(net, image, forward="forward_steps")
    assert steps[0].ops == 6 * fc1.ops and steps[1].ops == fc2.ops


def test_the_autoencoder_decoder_is_counted_and_the_model_left_as_it_was():
    torch.manual_seed(0)
    net = models.SpikingAutoencoder(latent_dim=8, num_steps=3).train()
    net.bn2.eval()
    for p in net.parameters():
        p.grad = torch.randn_like(p)
    calls = []
    net.conv1.register_forward_hook(lambda *args: calls.append(1))
    state = copy.deepcopy(net.state_dict())
    grads = [p.grad.clone() for p in net.parameters()]
    modes = [m.training for m in net.modules()]
    hooks = [len(m._forward_hooks) for m in net.modules()]

    layers = synops.count(net, torch.rand(2, 1, 32, 32))

    assert [layer.name for layer in layers] == [
        "conv1", "conv2", "conv3", "to_latent", "from_latent", "deconv1", "deconv2", "deconv3"]
    deconv1 = layers[5]  # 128 channels of 4 x 4 spikes -> 64 x 8 x 8, kernel 3 x 3
    assert deconv1.ann_macs == 4 * 4 * 128 * 64 * 9
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())  # BN statistics
    assert all(torch.equal(g, p.grad) for g, p in zip(grads, net.parameters(), strict=True))
    assert [m.training for m in net.modules()] == modes
    assert [len(m._forward_hooks) for m in net.modules()] == hooks
    assert len(calls) == 1  # the copy ran the model's own hook once; the model never ran


def test_a_model_that_cannot_be_copied_says_why():
    from snnlab.neurons import LIF

    net = nn.Sequential(nn.Linear(4, 3), LIF(0.9, stateful=True))
    net(torch.rand(2, 4))  # the stored membrane now belongs to a computation graph
    with pytest.raises(ValueError, match=r"holds a tensor of a computation graph.*"
                                         r"reset_states\(model\) first"):
        synops.count(net, torch.rand(1, 2, 4))


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
    assert [layer.ann_macs for layer in layers] == [72 * 16, 16 * 16, 16 * 10]
    assert all(layer.binary for layer in layers)
    steps = synops.count(net, x, forward="forward_steps")
    assert [(a.name, a.ops, a.ann_macs) for a in layers] == [
        (b.name, b.ops, b.ann_macs) for b in steps]
    copies = synops.count(net, x[:, :1].expand(7, 4, 2, 6, 6))
    alone = synops.count(net, x[:, :1])
    assert [a.ops for a in copies] == pytest.approx([a.ops for a in alone])


def test_bad_arguments():
    with pytest.raises(TypeError, match="model"):
        synops.count("net", torch.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="forward"):
        synops.count(nn.Linear(4, 2), torch.zeros(1, 2, 4), forward="backward")
    with pytest.raises(ValueError, match="forward_steps.*Linear has none"):
        synops.count(nn.Linear(4, 2), torch.zeros(1, 2, 4), forward="forward_steps")


@pytest.mark.parametrize("shape", [(0, 2, 4), (3, 0, 4)])
def test_an_empty_batch_or_no_steps_is_refused(shape):
    with pytest.raises(ValueError, match=r"x is empty.*at least one sample.*at least one step"):
        synops.count(nn.Sequential(nn.Linear(4, 3)), torch.zeros(shape))


def test_a_layer_with_weights_it_cannot_count_is_named():
    net = nn.Sequential(nn.Linear(4, 4), nn.Conv3d(1, 1, 1))
    with pytest.raises(ValueError, match=r"cannot count layer '1' \(Conv3d, weights weight, "
                                         r"bias\): it counts nn.Linear, nn.Conv1d"):
        synops.count(net, torch.zeros(2, 3, 4))
    reflect = EachStep(nn.Conv1d(1, 1, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(ValueError, match="layer 'layer'.*padding_mode='reflect'"):
        synops.count(reflect, torch.zeros(2, 3, 1, 5))


def test_an_output_that_is_not_time_first_is_refused():
    batch_first = nn.Linear(4, 3)  # [B, 4] -> [B, 3]: no time dimension to read B from
    with pytest.raises(ValueError, match=r"time-first \[T, B, ...\].*got shape \(5, 3\)"):
        synops.count(batch_first, torch.zeros(5, 4))

    class BatchFirst(nn.Module):  # images [B, 4] -> [B, T = 2, 3]
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x).unsqueeze(1).expand(-1, 2, -1)

    with pytest.raises(ValueError, match=r"output \(5, 2, 3\) reads as T = 5 steps of B = 2 "
                                         r"samples, but x \(5, 4\) is neither"):
        synops.count(BatchFirst(), torch.zeros(5, 4))


@pytest.mark.parametrize("given, named", [
    ("fc1", "str"), (None, "NoneType"), ({"fc1": 1.0}, "dict"), (torch.zeros(3), "Tensor")])
def test_table_and_totals_say_what_they_take(given, named):
    for summary in (synops.table, synops.totals):
        with pytest.raises(TypeError, match=f"layers must be a list of LayerOps as "
                                            f"synops.count returns it, got {named}"):
            summary(given)
    with pytest.raises(TypeError, match=r"layers\[1\] is tuple"):
        synops.totals([synops.LayerOps("fc", 1.0, 2.0, 0.5, True), ("fc2", 3.0)])
