"""Four classic spiking networks for MNIST (lessons 04, 05 and 06).

Every model returns a time-first record of its output layer::

    spikes, membrane = model(x)      # each [num_steps, batch, ...]

and each has two forward passes that compute the same numbers, one after the other below:

- ``forward_steps(x)``: the loop you write by hand in the lessons, one time step at a time.
  Read this one.
- ``forward(x)``: the same layers in the same order, reorganised for speed. Only the neurons
  carry state from one step to the next, so only they need the time loop:

  1. A static input (the same image at every step) gives the same first-layer current at
     every step, so that layer runs once, not ``num_steps`` times, and its neurons get it as
     a constant input, ``lif.spikes(current, num_steps=T)``.
  2. Layers without state (linear, convolution, pooling) do not care which step a sample
     comes from, so the steps go through them as big batches: ``[T*B, ...]`` for a linear
     layer, five steps ``[5*B, ...]`` at a time for a convolution (``_over_time``: images in
     channels-last memory layout, which the CPU's convolutions read fastest).
  3. The neurons run over the whole sequence with ``LIF.sequence``, or ``LIF.spikes`` for
     hidden layers, whose membrane nothing reads (``snnlab.bptt``).

  BatchNorm is the exception to 2: while training it normalises with the statistics of the
  batch in front of it, which in ``forward_steps`` is one step's batch, so it runs step by
  step in both (and its steps go to the neurons as a list). The fast path adds numbers up in
  another order, so the last bits of a float32 may differ; in float64 the two agree to 1e-10
  (tested, values and gradients).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snnlab import checks, encoding, surrogate
from snnlab.neurons import LIF
from snnlab.recurrent import RecurrentLIF

__all__ = ["FCSNN", "SingleLayerSNN", "CSNN", "SpikingAutoencoder", "RecurrentSNN", "EventCSNN",
           "MODELS"]


# ---------------------------------------------------------------- shared helpers
STEPS_PER_CALL = 5  # _over_time gives a layer this many steps at a time


def _over_time(layer: Callable[[Tensor], Tensor], x_seq: Tensor) -> Tensor:
    """Apply a stateless layer to every step: [T, B, ...] -> [T, B, ...].

    The steps go through the layer ``STEPS_PER_CALL`` at a time, as one batch [5*B, ...]:
    far fewer calls than one per step, yet small enough pieces that each call's output and
    gradients stay in the CPU cache and in memory the allocator hands out again (all 25 steps
    of lesson 05's CSNN in one call make its training step about 11% slower). Images go in
    channels-last (NHWC) memory layout: the same numbers, in the order the CPU convolution
    library reads fastest (the result keeps that layout; shapes do not change).
    """
    num_steps, batch = x_seq.shape[:2]
    # (split's backward copies the gradient together again: not worth it for a single piece)
    pieces = x_seq.split(STEPS_PER_CALL) if num_steps > STEPS_PER_CALL else [x_seq]
    outputs = []
    for steps in pieces:  # [<=5, B, ...] each
        x = steps.flatten(0, 1)
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        outputs.append(layer(x))  # [<=5*B, ...]
    output = outputs[0] if len(outputs) == 1 else torch.cat(outputs)  # (cat copies, even one)
    return output.unflatten(0, (num_steps, batch))


def _norm_each_step(bn: nn.BatchNorm2d, x_seq: Tensor) -> list[Tensor]:
    """BatchNorm at every step, as ``forward_steps`` does: [T, B, C, H, W] -> T x [B, C, H, W].

    The steps stay a list: ``LIF.spikes`` takes them as they are, so they are never copied
    into one [T, ...] tensor (nor their gradients on the way back).
    """
    return [bn(x) for x in x_seq]


def _stack(records: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    spikes, membranes = zip(*records, strict=True)
    return torch.stack(spikes), torch.stack(membranes)


# ---------------------------------------------------------------- the networks
class FCSNN(nn.Module):
    """Two fully connected layers of leaky integrate-and-fire neurons (784-1000-10). Lesson 04.

        I1[t] = W1 x[t] + b1,        S1[t], U1[t] = LIF_beta(I1[t], U1[t-1])
        I2[t] = W2 S1[t] + b2,       S2[t], U2[t] = LIF_beta(I2[t], U2[t-1])

    Input, either of:

    - a static image, ``[B, 1, 28, 28]`` or ``[B, 784]``: the same input current at each of
      the ``num_steps`` steps;
    - a spike train ``[T, B, 784]``: its own length ``T`` sets the number of steps.

    Returns the output layer's ``(spikes, membrane)``, each ``[T, B, num_outputs]``.
    """

    def __init__(self, num_inputs: int = 784, num_hidden: int = 1000, num_outputs: int = 10,
                 beta: float = 0.95, num_steps: int = 25) -> None:
        super().__init__()
        self.config = _config(num_inputs=num_inputs, num_hidden=num_hidden,
                              num_outputs=num_outputs, beta=beta, num_steps=num_steps)
        self.num_steps = num_steps
        self.fc1 = nn.Linear(num_inputs, num_hidden)
        self.lif1 = LIF(beta)
        self.fc2 = nn.Linear(num_hidden, num_outputs)
        self.lif2 = LIF(beta)

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x, is_static = _static_or_train(self, x, self.fc1.in_features)
        num_steps = self.num_steps if is_static else len(x)
        mem1 = mem2 = None  # None: the neurons start at rest
        record = []
        for t in range(num_steps):
            x_t = x if is_static else x[t]
            spk1, mem1 = self.lif1(self.fc1(x_t), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            record.append((spk2, mem2))
        return _stack(record)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x, is_static = _static_or_train(self, x, self.fc1.in_features)
        if is_static:  # fc1 once, not num_steps times: the same current at every step
            spikes1 = self.lif1.spikes(self.fc1(x), num_steps=self.num_steps)
        else:  # fc1 over all steps in one matrix product
            spikes1 = self.lif1.spikes(self.fc1(x))
        return self.lif2.sequence(self.fc2(spikes1))  # fc2 over all steps, then lif2


class SingleLayerSNN(nn.Module):
    """784 inputs straight to 10 LIF neurons, no bias, fed by Poisson (rate) spikes. Lesson 04.

    SpikingJelly's classic first example. It writes the neuron with a time constant tau::

        U[t] = U[t-1] + (I[t] - U[t-1]) / tau  =  (1 - 1/tau) U[t-1] + I[t] / tau

    which is snnlab's LIF with ``beta = 1 - 1/tau`` and the input current scaled by
    ``1/tau``. Like SpikingJelly's neuron it resets to zero after a spike (``reset="zero"``)
    and uses the arctan surrogate.

    Input: images ``[B, 1, 28, 28]`` or ``[B, 784]`` with values in [0, 1], which the model
    turns into a fresh Poisson spike train of ``num_steps`` steps with
    ``snnlab.encoding.rate`` (so two calls give slightly different answers), or a spike
    train ``[T, B, 784]`` you made yourself. Returns ``(spikes, membrane)``, each ``[T, B, 10]``.
    Train it with ``losses.mse_rate``: the correct neuron should fire at every step.
    """

    def __init__(self, tau: float = 2.0, num_steps: int = 100) -> None:
        super().__init__()
        self.config = _config(tau=checks.number("tau", tau, "> 1 (so that 0 < beta < 1)",
                                                lambda v: 1 < v < float("inf")),
                              num_steps=num_steps)
        self.tau = tau
        self.num_steps = num_steps
        self.fc = nn.Linear(784, 10, bias=False)
        self.lif = LIF(beta=1.0 - 1.0 / tau, reset="zero", surrogate=surrogate.atan())

    BLOCK_STEPS = 25  # forward draws its spike train this many steps at a time

    def _spike_train(self, x: Tensor) -> Tensor:
        x, is_static = _static_or_train(self, x, 784)
        return encoding.rate(x, self.num_steps) if is_static else x  # [T, B, 784]

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mem = None
        record = []
        for x_t in self._spike_train(x):
            spk, mem = self.lif(self.fc(x_t) / self.tau, mem)
            record.append((spk, mem))
        return _stack(record)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x, is_static = _static_or_train(self, x, 784)
        if not is_static:  # your own spike train: all steps in one matrix product
            return self.lif.sequence(self.fc(x) / self.tau)
        # The same Poisson train as forward_steps (the same coins, drawn in the same order),
        # drawn and multiplied a block of BLOCK_STEPS steps at a time: at a batch of 128 each
        # block is 10 MB, which the memory allocator hands out again at the next batch, where
        # the whole 40 MB train would arrive as fresh pages from the kernel every batch.
        blocks = [self.fc(encoding.rate(x, min(self.BLOCK_STEPS, self.num_steps - start)))
                  for start in range(0, self.num_steps, self.BLOCK_STEPS)]
        return self.lif.sequence(torch.cat(blocks) / self.tau)


class CSNN(nn.Module):
    """A convolutional SNN: 12C5-MP2-64C5-MP2-1024FC10, with the fast-sigmoid surrogate.

        S1 = LIF(maxpool2(conv5x5(x, 12 channels)))          [B, 12, 12, 12]
        S2 = LIF(maxpool2(conv5x5(S1, 64 channels)))         [B, 64, 4, 4]
        S3 = LIF(linear(flatten(S2), 10))                    [B, 10]

    (each at every step, each LIF with its own membrane). Input: static images
    ``[B, 1, 28, 28]``, the same at every step. Returns ``(spikes, membrane)`` of the
    output layer, each ``[num_steps, B, 10]``. Lesson 05.
    """

    def __init__(self, beta: float = 0.5, num_steps: int = 25) -> None:
        super().__init__()
        self.config = _config(beta=beta, num_steps=num_steps)
        self.num_steps = num_steps
        spike = surrogate.fast_sigmoid(25.0)
        self.conv1 = nn.Conv2d(1, 12, 5)
        self.lif1 = LIF(beta, surrogate=spike)
        self.conv2 = nn.Conv2d(12, 64, 5)
        self.lif2 = LIF(beta, surrogate=spike)
        self.fc = nn.Linear(64 * 4 * 4, 10)
        self.lif3 = LIF(beta, surrogate=spike)

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = _check_images(self, x, 28)
        mem1 = mem2 = mem3 = None
        record = []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(F.max_pool2d(self.conv1(x), 2), mem1)
            spk2, mem2 = self.lif2(F.max_pool2d(self.conv2(spk1), 2), mem2)
            spk3, mem3 = self.lif3(self.fc(spk2.flatten(1)), mem3)
            record.append((spk3, mem3))
        return _stack(record)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        spikes = self.layer_spikes(x, output=False)
        return self.lif3.sequence(self.fc(spikes["lif2"].flatten(2)))

    def layer_spikes(self, x: Tensor, output: bool = True) -> dict[str, Tensor]:
        """The spikes of every layer, time-first, to look inside the network (lesson 05).

        Returns ``{"lif1": [T, B, 12, 12, 12], "lif2": [T, B, 64, 4, 4], "lif3": [T, B, 10]}``
        (``"lif3"`` only with ``output=True``): the same numbers as ``forward``. Wrap the
        call in ``torch.no_grad()`` when you only want to look.
        """
        x = _check_images(self, x, 28)
        checks.boolean("output", output)
        current1 = F.max_pool2d(self.conv1(x), 2)  # once: the image is the same at every step
        current1 = current1.contiguous(memory_format=torch.channels_last)  # see _over_time
        spikes1 = self.lif1.spikes(current1, num_steps=self.num_steps)
        spikes2 = self.lif2.spikes(_over_time(lambda s: F.max_pool2d(self.conv2(s), 2), spikes1))
        layers = {"lif1": spikes1, "lif2": spikes2}
        if output:
            layers["lif3"] = self.lif3.spikes(self.fc(spikes2.flatten(2)))
        return layers


class SpikingAutoencoder(nn.Module):
    """A convolutional spiking autoencoder for 32x32 images. Lesson 06.

    Encoder: three stride-2 3x3 convolutions (32, 64, 128 channels; 32 -> 16 -> 8 -> 4 pixels),
    each followed by BatchNorm and LIF, then a linear layer to ``latent_dim`` spiking neurons.
    Decoder, the mirror image: linear to 128x4x4 and LIF, two stride-2 transposed
    convolutions with BatchNorm and LIF (64, 32 channels), and a last transposed convolution
    to one channel feeding a *non-spiking* output layer (``reset="none"``): its membrane
    only integrates, ``U[t] = beta U[t-1] + I[t]``, and the reconstruction is its value at
    the last step, ``membrane[-1]``.

    Input: static images ``[B, 1, 32, 32]`` (``snnlab.data.loaders(..., size=32)``).
    Returns ``(latent_spikes [T, B, latent_dim], membrane [T, B, 1, 32, 32])``.
    """

    def __init__(self, latent_dim: int = 32, beta: float = 0.5, num_steps: int = 5,
                 threshold: float = 1.0) -> None:
        super().__init__()
        self.config = _config(latent_dim=latent_dim, beta=beta, num_steps=num_steps,
                              threshold=threshold)
        self.num_steps = num_steps

        def lif() -> LIF:
            return LIF(beta, threshold=threshold)

        def down(c_in: int, c_out: int) -> nn.Conv2d:
            return nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)

        def up(c_in: int, c_out: int) -> nn.ConvTranspose2d:
            return nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)

        self.conv1, self.bn1, self.lif1 = down(1, 32), nn.BatchNorm2d(32), lif()
        self.conv2, self.bn2, self.lif2 = down(32, 64), nn.BatchNorm2d(64), lif()
        self.conv3, self.bn3, self.lif3 = down(64, 128), nn.BatchNorm2d(128), lif()
        self.to_latent, self.lif_latent = nn.Linear(128 * 4 * 4, latent_dim), lif()
        self.from_latent, self.lif4 = nn.Linear(latent_dim, 128 * 4 * 4), lif()
        self.deconv1, self.bn5, self.lif5 = up(128, 64), nn.BatchNorm2d(64), lif()
        self.deconv2, self.bn6, self.lif6 = up(64, 32), nn.BatchNorm2d(32), lif()
        self.deconv3, self.lif_out = up(32, 1), LIF(beta, threshold=threshold, reset="none")

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = _check_images(self, x, 32)
        mem = [None] * 8  # one membrane per LIF layer, all at rest
        record = []
        for _ in range(self.num_steps):
            s, mem[0] = self.lif1(self.bn1(self.conv1(x)), mem[0])
            s, mem[1] = self.lif2(self.bn2(self.conv2(s)), mem[1])
            s, mem[2] = self.lif3(self.bn3(self.conv3(s)), mem[2])
            latent, mem[3] = self.lif_latent(self.to_latent(s.flatten(1)), mem[3])
            s, mem[4] = self.lif4(self.from_latent(latent).unflatten(1, (128, 4, 4)), mem[4])
            s, mem[5] = self.lif5(self.bn5(self.deconv1(s)), mem[5])
            s, mem[6] = self.lif6(self.bn6(self.deconv2(s)), mem[6])
            _, mem[7] = self.lif_out(self.deconv3(s), mem[7])
            record.append((latent, mem[7]))
        return _stack(record)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = _check_images(self, x, 32)
        # Encoder. conv1 sees the same image at every step: run it once. bn1 then gives the
        # same output at every step too, but it runs once per step all the same, so that its
        # running statistics move as often as in forward_steps.
        current = self.conv1(x).contiguous(memory_format=torch.channels_last)  # see _over_time
        for _ in range(self.num_steps):
            normalized = self.bn1(current)
        s = self.lif1.spikes(normalized, num_steps=self.num_steps)
        s = self.lif2.spikes(_norm_each_step(self.bn2, _over_time(self.conv2, s)))
        s = self.lif3.spikes(_norm_each_step(self.bn3, _over_time(self.conv3, s)))
        latent_spikes = self.lif_latent.spikes(self.to_latent(s.flatten(2)))
        # Decoder
        s = self.lif4.spikes(self.from_latent(latent_spikes).unflatten(2, (128, 4, 4)))
        s = self.lif5.spikes(_norm_each_step(self.bn5, _over_time(self.deconv1, s)))
        s = self.lif6.spikes(_norm_each_step(self.bn6, _over_time(self.deconv2, s)))
        _, membrane = self.lif_out.sequence(_over_time(self.deconv3, s))
        return latent_spikes, membrane


# ---------------------------------------------------------------- lesson 07: event data
class RecurrentSNN(nn.Module):
    """Events -> a recurrent LIF layer -> LIF outputs, for the order task. Lesson 07.

        I1[t] = W1 x[t] + b1                          x[t]: the events of step t, flattened
        S1[t], U1[t] = RecurrentLIF(I1[t], S1[t-1], U1[t-1])     (recurrent weights V)
        I2[t] = W2 S1[t] + b2,    S2[t], U2[t] = LIF(I2[t], U2[t-1])

    Input: events ``[T, B, 2, H, W]`` with ``2 * H * W = num_inputs`` (any T). Returns the output
    layer's ``(spikes, membrane)``, each ``[T, B, num_outputs]``.

    ``collapse_time=True`` makes the time-collapsed baseline: the network sees the events
    averaged over time, (1/T) sum_t x[t], the same at every step. It gets the same total
    input, but not its order.
    """

    def __init__(self, num_inputs: int = 2 * 34 * 34, num_hidden: int = 256,
                 num_outputs: int = 10, beta: float = 0.9, collapse_time: bool = False) -> None:
        super().__init__()
        self.config = _config(num_inputs=num_inputs, num_hidden=num_hidden,
                              num_outputs=num_outputs, beta=beta,
                              collapse_time=checks.boolean("collapse_time", collapse_time))
        side = int(round((num_inputs / 2) ** 0.5))
        if 2 * side * side != num_inputs:
            raise ValueError(f"num_inputs must be 2 * H * H (ON and OFF channels of a square "
                             f"sensor), got {num_inputs}")
        self.event_shape = (2, side, side)
        self.collapse_time = collapse_time
        self.fc1 = nn.Linear(num_inputs, num_hidden)
        self.rlif1 = RecurrentLIF(num_hidden, beta)
        self.fc2 = nn.Linear(num_hidden, num_outputs)
        self.lif2 = LIF(beta)

    def _inputs(self, x: Tensor) -> Tensor:
        """[T, B, num_inputs]: the events of each step, or their time average at each step."""
        x = _check_events(self, x, self.event_shape).flatten(2)
        return x.mean(0).expand_as(x) if self.collapse_time else x

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        spk1 = mem1 = mem2 = None
        record = []
        for x_t in self._inputs(x):
            spk1, mem1 = self.rlif1(self.fc1(x_t), spk1, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            record.append((spk2, mem2))
        return _stack(record)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        spikes1, _ = self.rlif1.sequence(self.fc1(self._inputs(x)))  # fc1: all steps at once
        return self.lif2.sequence(self.fc2(spikes1))


class EventCSNN(nn.Module):
    """A convolutional SNN for event recordings: 12C5-MP2-32C5-MP2-FC10. Lesson 07.

        S1[t] = LIF(maxpool2(conv5x5(x[t], 12 channels)))        [B, 12, 15, 15]
        S2[t] = LIF(maxpool2(conv5x5(S1[t], 32 channels)))       [B, 32, 5, 5]
        S3[t] = LIF(linear(flatten(S2[t]), 10))                  [B, 10]

    The CSNN of lesson 05, with two input channels (ON and OFF events) and an input that
    changes at every step, ``[T, B, 2, size, size]`` (any T). Returns the output layer's
    ``(spikes, membrane)``, each ``[T, B, 10]``.
    """

    def __init__(self, beta: float = 0.5, size: int = 34) -> None:
        super().__init__()
        self.config = _config(beta=beta, size=checks.positive_int("size", size))
        self.size = size
        side = ((size - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"size must be at least 16 pixels, got {size}")
        spike = surrogate.fast_sigmoid(25.0)
        self.conv1 = nn.Conv2d(2, 12, 5)
        self.lif1 = LIF(beta, surrogate=spike)
        self.conv2 = nn.Conv2d(12, 32, 5)
        self.lif2 = LIF(beta, surrogate=spike)
        self.fc = nn.Linear(32 * side * side, 10)
        self.lif3 = LIF(beta, surrogate=spike)

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = _check_events(self, x, (2, self.size, self.size))
        mem1 = mem2 = mem3 = None
        record = []
        for x_t in x:
            spk1, mem1 = self.lif1(F.max_pool2d(self.conv1(x_t), 2), mem1)
            spk2, mem2 = self.lif2(F.max_pool2d(self.conv2(spk1), 2), mem2)
            spk3, mem3 = self.lif3(self.fc(spk2.flatten(1)), mem3)
            record.append((spk3, mem3))
        return _stack(record)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = _check_events(self, x, (2, self.size, self.size))
        spikes1 = self.lif1.spikes(_over_time(lambda s: F.max_pool2d(self.conv1(s), 2), x))
        spikes2 = self.lif2.spikes(_over_time(lambda s: F.max_pool2d(self.conv2(s), 2), spikes1))
        return self.lif3.sequence(self.fc(spikes2.flatten(2)))


# ---------------------------------------------------------------- input checks
# What every model checks before any layer runs (the generic checks are in snnlab.checks).

def _check_values(model: nn.Module, x: object) -> Tensor:
    """x: a float tensor in the network's dtype and on its device, every value in [0, 1]."""
    name = type(model).__name__
    checks.tensor("x", x)
    weight = next(model.parameters())
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: x is {x.dtype} but the network's weights are {weight.dtype}; "
                        f"pass x.to({weight.dtype}) (or convert the network: model.to({x.dtype}))")
    if x.device != weight.device:
        raise ValueError(f"{name}: x is on {x.device} but the network is on {weight.device}; "
                         f"pass x.to({str(weight.device)!r})")
    checks.finite(f"{name}'s input x", x)
    if x.numel() and ((x < 0) | (x > 1)).any():
        raise ValueError(f"{name}: x must hold pixel values or spikes in [0, 1], found values "
                         f"in [{x.min().item():g}, {x.max().item():g}] "
                         f"({checks.where(((x < 0) | (x > 1)).cpu())} outside). Images from "
                         "snnlab.data are already in [0, 1]; 8-bit pixels need x / 255")
    return x


def _static_or_train(model: nn.Module, x: object, num_inputs: int) -> tuple[Tensor, bool]:
    """``(x, is_static)``: static images as [B, num_inputs], or a spike train [T, B, num_inputs]."""
    x = _check_values(model, x)
    name = type(model).__name__
    side = int(num_inputs ** 0.5)
    if x.dim() == 3 and x.shape[-1] == num_inputs and 0 not in x.shape:
        if x.shape[1] == model.num_steps != x.shape[0]:
            warnings.warn(f"{name}: the spike train has shape {tuple(x.shape)}; snnlab is "
                          f"time-first, [num_steps, batch, {num_inputs}]. If you passed "
                          "[batch, num_steps, ...], use x.transpose(0, 1)", stacklevel=3)
        return x, False
    if x.dim() in (2, 4) and len(x) and x[0].numel() == num_inputs:
        return x.flatten(1), True
    raise ValueError(f"{name}: x must be static images [B, {num_inputs}] or [B, 1, {side}, "
                     f"{side}], or a time-first spike train [T, B, {num_inputs}]; got "
                     f"{tuple(x.shape)}{_shape_hint(x, side)}")


def _shape_hint(x: Tensor, side: int) -> str:
    """Why an image batch has the wrong shape, when a common slip explains it."""
    shape = tuple(x.shape)
    if 0 in shape:
        return ": an empty batch (no samples)"
    if x.dim() == 2 and shape == (side, side) or x.dim() == 3 and shape[1:] == (side, side):
        return f": the channel dimension is missing, use x.view(-1, 1, {side}, {side})"
    if x.dim() == 4 and shape[1] != 1 and shape[2:] == (side, side):
        return f": {shape[1]} channels, but MNIST images have 1"
    if x.dim() == 4 and shape[1:] in ((1, 28, 28), (1, 32, 32)) and shape[2] != side:
        return f": load MNIST with size={side} (snnlab.data.loaders(..., size={side}))"
    return ""


def _check_images(model: nn.Module, x: object, size: int) -> Tensor:
    """x: static images [B, 1, size, size] with values in [0, 1]."""
    x = _check_values(model, x)
    name, shape = type(model).__name__, tuple(x.shape)
    if x.dim() == 4 and shape[1:] == (1, size, size) and shape[0] > 0:
        return x
    expected = f"{name}: x must be images [B, 1, {size}, {size}], got {shape}"
    if x.dim() == 2 and shape[1] == size * size and shape[0] > 0:
        raise ValueError(f"{expected}: a flat vector; a convolutional network needs the image "
                         f"shape, x.view(-1, 1, {size}, {size})")
    if x.dim() == 5:
        raise ValueError(f"{expected}: {name} takes static images and repeats them over its "
                         f"num_steps; it does not take a spike train [T, B, ...]")
    raise ValueError(expected + _shape_hint(x, size))


def _config(**arguments: object) -> dict:
    """The constructor arguments, checked: sizes positive ints, num_steps a positive int."""
    for name, value in arguments.items():
        if name.startswith("num_") or name == "latent_dim":
            checks.positive_int(name, value)
    return dict(arguments)


def _check_events(model: nn.Module, x: object, shape: tuple[int, int, int]) -> Tensor:
    """x: time-first events [T, B, *shape] (0/1 ON and OFF channels), in [0, 1]."""
    x = _check_values(model, x)
    name = type(model).__name__
    if x.dim() == 5 and tuple(x.shape[2:]) == shape and x.shape[0] > 0 and x.shape[1] > 0:
        return x
    hint = ""
    if x.dim() == 4 and tuple(x.shape[1:]) == shape:
        hint = ": a single step or sample? Events are time-first [T, B, ...]"
    raise ValueError(f"{name}: x must be time-first events [T, B, {shape[0]}, {shape[1]}, "
                     f"{shape[2]}] (snnlab.events), got {tuple(x.shape)}{hint}")


MODELS: tuple[type[nn.Module], ...] = (FCSNN, SingleLayerSNN, CSNN, SpikingAutoencoder,
                                       RecurrentSNN, EventCSNN)
