"""From an ANN to an SNN: conversion with threshold balancing. Lesson 10.

Train an ordinary network of ReLU units with backpropagation (no surrogate, no time steps),
then swap each ReLU for integrate-and-fire (IF) neurons and let the spike *rates* stand in
for the activations. This file does it for lesson 05's shape, ``ConvNet``::

    a1 = relu(avgpool2(conv5x5(x, 12 channels)))          [B, 12, 12, 12]
    a2 = relu(avgpool2(conv5x5(a1, 64 channels)))         [B, 64, 4, 4]
    z  = linear(flatten(a2), 10)                          [B, 10]   the logits

**Why an IF neuron computes a ReLU.** An IF neuron (no leak, beta = 1) with reset by
subtraction, fed a current I[t], from V[-1] = 0:

    V[t] = V[t-1] + I[t]                  integrate (no leak: nothing is forgotten)
    S[t] = H(V[t] - theta)                fire when V passes theta (H(x) = 1 if x > 0)
    V[t] = V[t] - S[t] * theta            reset by subtracting theta, right away

Summed over T steps: theta * N(T) = sum_t I[t] - V[T-1], where N(T) is the number of spikes.
For a constant I in [0, theta], V stays in [0, theta] at every step (it starts at 0, adds at
most theta, and loses theta whenever it passes theta), so

    0 <= I - theta * N(T) / T <= theta / T                                   (the bound)

The rate r = N(T) / T, times theta, is I up to theta / T: the rate computes
clip(I, 0, theta), a ReLU that saturates at one spike per step. For I < 0 the neuron never
fires (r = 0 = relu(I)); for I > theta it fires at every step (r = 1). ``tests`` check the
bound. A deeper layer gets spike trains, not a constant current; the identity above still
holds, theta * N(T) / T = mean of I[t] - V[T-1] / T, but V is no longer held in [0, theta]
(a neuron whose input is negative early and positive late ends with V < 0 or fires late),
so the errors of the layers below add up, and a deep layer needs more steps than the first.
Three choices follow from the bound, each for a reason:

- **Reset by subtraction, not to zero.** Subtracting theta keeps what was above the threshold
  (V - theta) for the next spike; resetting to zero throws it away, so the rate undershoots
  I / theta by an error that does not shrink with T.
- **No leak (beta = 1).** A leak forgets part of the input every step: the rate is then not
  proportional to I, and small inputs never reach theta at all.
- **Average pooling, no biases.** Average pooling is linear, so the average of rates is the
  rate of the average: conv then pool is one linear map, and one IF layer after it computes
  relu(avgpool(conv)). Max pooling of rates has no such identity (the max of spike counts
  over a window is not the spike count of the max). A bias would be a constant current
  b / lambda at every step (it converts, but needs its own scaling); we leave biases out,
  which costs this network nothing.

**Threshold balancing.** Rates live in [0, 1] and activations in [0, lambda] for some
lambda, so each layer's activations are scaled into [0, 1] by lambda_l, the largest
activation of layer l on TRAINING data (data-based normalisation, Diehl et al. 2015), or a
high percentile of them (robust normalisation, Rueckauer et al. 2017). With lambda_0 = 1
(pixels are in [0, 1]) and thresholds theta = 1, the converted weights are

    W_l' = W_l * lambda_{l-1} / lambda_l                                  (hidden layers)
    W_out' = W_out * lambda_L                                             (output layer)

so that layer l's rate approximates a_l / lambda_l (clipped at 1). Scaling the weights by
lambda_{l-1} / lambda_l is the same as keeping them and setting theta_l = lambda_l /
lambda_{l-1}: a spike of layer l-1 then stands for lambda_{l-1} units of activation. With
``per_channel=True`` each output channel c gets its own lambda_{l,c} (the input side uses
the channel of each input). Why a percentile: the maximum is set by one rare image and
pixel; dividing by it makes every other neuron fire slowly, and a slow neuron needs many
steps before its count means anything (the bound theta / T is relative to theta, so a
neuron at rate 0.01 has no useful resolution before T ~ 100). The 99.9th percentile
(of all activations of the layer, zeros included) lets the rare largest activations
saturate at rate 1 in exchange for higher rates everywhere else.

**Input and output.** The image goes in as an analog current, the same at every step
(``I1 = conv1(x) / lambda_1``): no Poisson sampling, whose noise would need many more steps
to average out, and conv1 runs once. Its operations are therefore multiply-accumulates on
pixel values, not spike additions (``run`` and ``snnlab.synops`` count them as MACs). The
output layer does not spike: it integrates its current, U_out[t] = U_out[t-1] +
W_out' S2[t], and the class is argmax U_out[T-1]. U_out[T-1] / T -> z, the ANN's logits.

**Reset convention.** ``snnlab.neurons.LIF(beta=1.0, reset="subtract")`` applies the reset
one step later, from the previous membrane (U[t] = U[t-1] + I[t] - S[t-1] theta). Its U[t]
is this file's V[t] *before* the reset, and its spikes are exactly the same (tested); we
write the reset right away, the textbook form, because then the membrane always lies in
[0, theta] and the bound above reads off it.

    ann = ConvNet(); ...train it...
    scales = activation_scales(ann, training_images, percentile=99.9)
    snn = convert(ann, scales)
    result = run(snn, test_images, steps=(1, 2, 4, ..., 256))   # one pass, every T
    accuracy(result, test_labels)

References: Diehl, Neil, Binas, Cook, Liu, Pfeiffer (2015), "Fast-classifying, high-accuracy
spiking deep networks through weight and threshold balancing" (IJCNN); Rueckauer, Lungu, Hu,
Pfeiffer, Liu (2017), "Conversion of continuous-valued deep networks to efficient
event-driven networks for image classification" (Frontiers in Neuroscience).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snnlab import checks

__all__ = ["ConvNet", "IF", "SpikingConvNet", "HIDDEN", "activation_scales", "convert",
           "fan_out", "Run", "run", "accuracy", "powers_of_two"]

HIDDEN = ("layer1", "layer2")  # the ReLU layers that become IF layers


# ---------------------------------------------------------------- the ANN
class ConvNet(nn.Module):
    """Lesson 05's shape as an ANN: 12C5-AP2-64C5-AP2-1024FC10, ReLU, no biases. Lesson 10.

        a1 = relu(avgpool2(conv1(x)))        [B, 12, 12, 12]
        a2 = relu(avgpool2(conv2(a1)))       [B, 64, 4, 4]
        z  = fc(flatten(a2))                 [B, 10]

    ``forward(x)`` returns the logits z; ``activations(x)`` returns ``{"layer1": a1,
    "layer2": a2, "output": z}``. Input: images ``[B, 1, 28, 28]`` in [0, 1].
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 12, 5, bias=False)
        self.conv2 = nn.Conv2d(12, 64, 5, bias=False)
        self.fc = nn.Linear(64 * 4 * 4, 10, bias=False)

    def activations(self, x: Tensor) -> dict[str, Tensor]:
        a1 = F.relu(F.avg_pool2d(self.conv1(x), 2))
        a2 = F.relu(F.avg_pool2d(self.conv2(a1), 2))
        return {"layer1": a1, "layer2": a2, "output": self.fc(a2.flatten(1))}

    def forward(self, x: Tensor) -> Tensor:
        return self.activations(x)["output"]


# ---------------------------------------------------------------- the neuron
class IF(nn.Module):
    """Integrate-and-fire neurons, reset by subtraction, no leak. Lesson 10.

    One step, word for word what ``forward`` does (V = ``mem``)::

        V = V + I                 # integrate
        S = H(V - theta)          # fire (H(x) = 1 if x > 0)
        V = V - S * theta         # reset by subtraction, right away

    ``spk, mem = neuron(input, mem)``: one step, ``mem=None`` starts at V = 0.
    ``neuron.spikes(current, num_steps)``: all steps without gradients, current ``[T, B, ...]``
    or one constant current ``[B, ...]`` with ``num_steps``. Its spikes equal those of
    ``LIF(beta=1.0, threshold=theta, reset="subtract")`` (module docstring).
    """

    def __init__(self, threshold: float = 1.0) -> None:
        super().__init__()
        self.threshold = checks.positive_number("threshold", threshold)

    def forward(self, input: Tensor, mem: Tensor | None = None) -> tuple[Tensor, Tensor]:
        checks.finite("input", checks.tensor("input", input))
        mem = torch.zeros_like(input) if mem is None else checks.neuron_state("mem", mem, input)
        mem = mem + input
        spk = (mem > self.threshold).to(input.dtype)
        mem = mem - spk * self.threshold
        return spk, mem

    def spikes(self, current: Tensor, num_steps: int | None = None) -> Tensor:
        """The spike trains ``[T, B, ...]`` (0.0/1.0) of a whole run from V = 0: the loop of
        ``forward``, in place (no gradients)."""
        checks.finite("current", checks.tensor("current", current))
        if num_steps is None:  # one current per step
            if current.dim() < 2:
                raise ValueError(f"current must be time-first [T, B, ...], or [B, ...] with "
                                 f"num_steps, got shape {tuple(current.shape)}")
            num_steps, step_shape = len(current), current.shape[1:]
        else:  # the same current at every step
            num_steps = checks.positive_int("num_steps", num_steps)
            checks.sequence_size("current", current, num_steps)
            step_shape = current.shape
        theta = self.threshold
        with torch.no_grad():
            mem = current.new_zeros(step_shape)
            out = current.new_empty((num_steps, *step_shape))
            for t in range(num_steps):
                mem += current if current.dim() == len(step_shape) else current[t]
                torch.gt(mem, theta, out=out[t])  # S[t] = H(V - theta), as 0.0/1.0
                mem.sub_(out[t], alpha=theta)  # V = V - S * theta
        return out

    def extra_repr(self) -> str:
        return f"threshold={self.threshold:g}, reset='subtract', beta=1"


# ---------------------------------------------------------------- the converted network
class SpikingConvNet(nn.Module):
    """The converted network: ``ConvNet``'s layers with IF neurons for its ReLUs. Lesson 10.

        I1    = avgpool2(conv1'(x))            the same analog current at every step
        S1[t] = IF(I1)                         [T, B, 12, 12, 12]
        S2[t] = IF(avgpool2(conv2'(S1[t])))    [T, B, 64, 4, 4]
        U[t]  = U[t-1] + fc'(flatten(S2[t]))   the output integrates, never spikes

    (primes: the balanced weights of ``convert``; every threshold 1). ``forward(x)`` returns
    the output membrane ``U`` ``[num_steps, B, 10]``, time-first as every snnlab network, so
    ``snnlab.synops.count`` counts it; the class at T steps is ``U[T-1].argmax(-1)``.
    """

    def __init__(self, num_steps: int = 32) -> None:
        super().__init__()
        self.num_steps = checks.positive_int("num_steps", num_steps)
        self.conv1 = nn.Conv2d(1, 12, 5, bias=False)
        self.if1 = IF(1.0)
        self.conv2 = nn.Conv2d(12, 64, 5, bias=False)
        self.if2 = IF(1.0)
        self.fc = nn.Linear(64 * 4 * 4, 10, bias=False)

    def layer_spikes(self, x: Tensor) -> dict[str, Tensor]:
        """``{"if1": S1 [T, B, 12, 12, 12], "if2": S2 [T, B, 64, 4, 4], "output": U [T, B,
        10]}`` for ``T = num_steps``, without gradients."""
        x = checks.images("x", x)
        x = x.unsqueeze(1) if x.dim() == 3 else x
        with torch.no_grad():
            spikes1 = self.if1.spikes(F.avg_pool2d(self.conv1(x), 2), self.num_steps)
            current2 = F.avg_pool2d(self.conv2(spikes1.flatten(0, 1)), 2)  # all steps at once
            spikes2 = self.if2.spikes(current2.unflatten(0, spikes1.shape[:2]))
            output = self.fc(spikes2.flatten(2)).cumsum(0)
        return {"if1": spikes1, "if2": spikes2, "output": output}

    def forward(self, x: Tensor) -> Tensor:
        return self.layer_spikes(x)["output"]


def _as_scale(name: str, value: object, channels: int) -> Tensor:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = torch.tensor(float(value))
    checks.finite(name, checks.tensor(name, value))
    if value.numel() not in (1, channels) or value.dim() > 1:
        raise ValueError(f"{name} must be one number or one per channel [{channels}], got "
                         f"shape {tuple(value.shape)}")
    if (value <= 0).any():
        raise ValueError(f"{name} must be > 0 (a layer whose activations are all 0 on the "
                         f"balancing data cannot be scaled), got {value.tolist()}")
    return value.reshape(-1).expand(channels).float()


def activation_scales(model: ConvNet, images: Tensor, percentile: float = 100.0,
                      per_channel: bool = False, batch_size: int = 1000) -> dict[str, Tensor]:
    """lambda_l for each hidden layer: the ``percentile`` of its activations on ``images``.
    Lesson 10.

    ``images``: TRAINING images ``[N, 1, 28, 28]`` in [0, 1] (balancing on the test set would
    let the test set tune the network). ``percentile=100`` is the maximum (Diehl et al. 2015);
    99.9 is Rueckauer et al.'s robust choice: the value that 99.9% of the layer's activations
    (zeros included) do not exceed. ``per_channel=True``: one lambda per channel ``[C]``,
    from that channel's activations (1 for a channel that is 0 on every image: it is silent
    either way); else one number (a 0-dim tensor). Returns ``{"layer1":
    lambda_1, "layer2": lambda_2}``.
    """
    if not isinstance(model, ConvNet):
        raise TypeError(f"model must be a snnlab.conversion.ConvNet, got {type(model).__name__}")
    images = checks.images("images", images)
    images = images.unsqueeze(1) if images.dim() == 3 else images
    percentile = checks.number("percentile", percentile, "in (0, 100]",
                               lambda p: 0 < p <= 100)
    checks.boolean("per_channel", per_channel)
    batch_size = checks.positive_int("batch_size", batch_size)
    was_training = model.training
    model.eval()
    parts: dict[str, list[Tensor]] = {name: [] for name in HIDDEN}
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            found = model.activations(images[start:start + batch_size])
            for name in HIDDEN:
                parts[name].append(found[name])
    model.train(was_training)
    scales = {}
    for name in HIDDEN:
        values = torch.cat(parts[name])  # [N, C, H, W]
        parts[name] = []
        # [C, N*H*W] per channel, [1, everything] per layer
        values = values.transpose(0, 1).flatten(1) if per_channel else values.reshape(1, -1)
        if percentile == 100:
            scale = values.max(1).values
        else:  # the k-th smallest value, k = ceil(p/100 * n): p% of the values are <= it
            k = min(values.shape[1], max(1, math.ceil(percentile / 100 * values.shape[1])))
            scale = values.kthvalue(k, dim=1).values
        if per_channel:  # a channel silent on all the balancing images: any scale will do
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        scales[name] = scale if per_channel else scale.reshape(())
    return scales


def convert(ann: ConvNet, scales: dict[str, Tensor], num_steps: int = 32) -> SpikingConvNet:
    """The SNN of ``ann`` with its weights balanced by ``scales`` (``activation_scales``).
    Lesson 10.

        conv1' = conv1 / lambda_1                         (lambda_0 = 1: pixels)
        conv2'[c, c'] = conv2[c, c'] * lambda_1[c'] / lambda_2[c]
        fc'[k, j] = fc[k, j] * lambda_2[channel of j]     (the output: back to ANN units)

    Every threshold is 1. ``ann`` is left as it was.
    """
    if not isinstance(ann, ConvNet):
        raise TypeError(f"ann must be a snnlab.conversion.ConvNet, got {type(ann).__name__}")
    if not isinstance(scales, dict) or set(scales) != set(HIDDEN):
        raise ValueError(f"scales must be a dict with keys {HIDDEN} (activation_scales "
                         f"returns one), got {scales!r:.80}")
    lambda1 = _as_scale("scales['layer1']", scales["layer1"], ann.conv1.out_channels)
    lambda2 = _as_scale("scales['layer2']", scales["layer2"], ann.conv2.out_channels)
    snn = SpikingConvNet(num_steps)
    with torch.no_grad():
        snn.conv1.weight.copy_(ann.conv1.weight / lambda1[:, None, None, None])
        snn.conv2.weight.copy_(ann.conv2.weight * lambda1[None, :, None, None]
                               / lambda2[:, None, None, None])
        per_feature = lambda2.repeat_interleave(ann.fc.in_features // len(lambda2))
        snn.fc.weight.copy_(ann.fc.weight * per_feature[None, :])
    return snn.eval()


# ---------------------------------------------------------------- running and counting
def fan_out(layer: nn.Conv2d, input_size: int) -> Tensor:
    """How many outputs each input position of a (stride-1, unpadded) ``layer`` reaches,
    ``[input_size, input_size]``: its output channels times the output positions whose
    window covers it (fewer at the borders). A spike there costs that many additions.
    Lesson 10."""
    if not isinstance(layer, nn.Conv2d) or layer.stride != (1, 1) or layer.padding != (0, 0) \
            or layer.dilation != (1, 1) or layer.groups != 1:
        raise ValueError("fan_out counts a plain nn.Conv2d: stride 1, no padding, no "
                         "dilation, one group")
    out_size = input_size - layer.kernel_size[0] + 1
    outputs = torch.ones(1, 1, out_size, out_size, dtype=torch.float64)
    window = torch.ones(1, 1, *layer.kernel_size, dtype=torch.float64)
    return F.conv_transpose2d(outputs, window)[0, 0] * layer.out_channels


def powers_of_two(largest: int = 256) -> list[int]:
    """``[1, 2, 4, ..., largest]``. Lesson 10."""
    largest = checks.positive_int("largest", largest)
    return [2 ** k for k in range(largest.bit_length()) if 2 ** k <= largest]


@dataclass
class Run:
    """What ``run`` measured, at each checkpoint ``steps[k]``. Lesson 10.

    ``predictions [K, N]``: the class at each T. ``spikes``: ``{"if1": [K], "if2": [K]}``,
    spikes per sample up to T. ``ops``: per sample up to T, ``{"conv1_MAC": [K]`` (the
    pixels that are not 0 times their fan-out, once: the current is constant),
    ``"conv2_AC": [K], "fc_AC": [K]}`` (spikes times their fan-out). ``ann_macs``: one dense
    pass of the ANN, per layer (as ``snnlab.synops`` counts an ANN: every input, zeros too).
    """

    steps: list[int]
    predictions: Tensor
    spikes: dict[str, Tensor]
    ops: dict[str, Tensor]
    ann_macs: dict[str, float]


def run(snn: SpikingConvNet, images: Tensor, steps: Sequence[int] | None = None,
        batch_size: int = 100) -> Run:
    """Run ``snn`` once for ``max(steps)`` steps and read it at every T in ``steps``
    (default ``powers_of_two(256)``): a run to T = 256 contains the runs to every shorter T,
    since nothing in the network looks ahead. Lesson 10.

    Counts (per sample), as ``snnlab.synops`` counts them (an input that is 0 costs nothing):
    conv1 on the analog image, its pixels that are not 0 times ``fan_out(conv1, 28)``, MACs,
    once (the current is the same at every step); conv2's ACs are
    layer 1's spikes times ``fan_out(conv2, 12)`` at their positions; fc's ACs layer 2's
    spikes times 10. The same numbers as ``snnlab.synops.count(snn, x)`` with
    ``snn.num_steps = T`` (tested).
    """
    if not isinstance(snn, SpikingConvNet):
        raise TypeError(f"snn must be a snnlab.conversion.SpikingConvNet (convert returns "
                        f"one), got {type(snn).__name__}")
    images = checks.images("images", images)
    images = images.unsqueeze(1) if images.dim() == 3 else images
    steps = powers_of_two(256) if steps is None else [checks.positive_int("steps", s)
                                                      for s in steps]
    if not steps or steps != sorted(set(steps)):
        raise ValueError(f"steps must be increasing step counts, got {steps}")
    batch_size = checks.positive_int("batch_size", batch_size)
    last = [s - 1 for s in steps]
    fan1 = fan_out(snn.conv1, 28).double()  # [28, 28]
    fan2 = fan_out(snn.conv2, 12).float()  # [12, 12]
    fc_out = snn.fc.out_features
    predictions, spikes1, spikes2, ops1, ops2 = [], 0.0, 0.0, 0.0, 0.0
    num_steps = steps[-1]
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size]
            ops1 += float(((x[:, 0] != 0) * fan1).sum())  # pixels that are not 0, once
            s1 = snn.if1.spikes(F.avg_pool2d(snn.conv1(x), 2), num_steps)  # [T, B, 12, 12, 12]
            current2 = torch.cat([
                F.avg_pool2d(snn.conv2(piece.flatten(0, 1).contiguous(
                    memory_format=torch.channels_last)), 2)
                for piece in s1.split(16)]).unflatten(0, s1.shape[:2])
            s2 = snn.if2.spikes(current2)  # [T, B, 64, 4, 4]
            output = snn.fc(s2.flatten(2)).cumsum(0)  # U[t], [T, B, 10]
            predictions.append(output[last].argmax(-1))  # [K, B]
            spikes1 = spikes1 + s1.sum((1, 2, 3, 4), dtype=torch.float64).cumsum(0)[last]
            spikes2 = spikes2 + s2.sum((1, 2, 3, 4), dtype=torch.float64).cumsum(0)[last]
            ops2 = ops2 + (s1.sum(2) * fan2).sum((1, 2, 3), dtype=torch.float64).cumsum(0)[last]
    n = len(images)
    ann = {"conv1": float(24 * 24 * 12 * 25), "conv2": float(8 * 8 * 64 * 12 * 25),
           "fc": float(snn.fc.in_features * fc_out)}
    return Run(steps=list(steps), predictions=torch.cat(predictions, 1),
               spikes={"if1": spikes1 / n, "if2": spikes2 / n},
               ops={"conv1_MAC": torch.full((len(steps),), ops1 / n, dtype=torch.float64),
                    "conv2_AC": ops2 / n, "fc_AC": spikes2 / n * fc_out},
               ann_macs=ann)


def accuracy(result: Run, labels: Tensor) -> list[float]:
    """The fraction of ``labels`` predicted right at each T of ``result.steps``. Lesson 10."""
    if not isinstance(result, Run):
        raise TypeError(f"result must be a Run (run returns one), got {type(result).__name__}")
    checks.tensor("labels", labels, floating=False)
    if labels.shape != result.predictions.shape[1:]:
        raise ValueError(f"labels must be [{result.predictions.shape[1]}] (one per image run), "
                         f"got shape {tuple(labels.shape)}")
    return (result.predictions == labels).double().mean(1).tolist()
