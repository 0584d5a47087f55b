"""Four classic spiking networks for MNIST.

Every model returns a time-first record of its output layer::

    spikes, membrane = model(x)      # each [num_steps, batch, ...]

and each has two forward passes that compute the same numbers (the fast one adds things up in
another order, so the last bits of a float may differ):

- ``forward_steps(x)``: the loop you write by hand in the lessons, one time step at a time.
- ``forward(x)``: the fast version. Three tricks, none of which changes the result:

  1. A static input (the same image at every step) gives the same first-layer current at
     every step, so that layer runs once, not ``num_steps`` times, and its neurons get it as
     a constant input, ``lif.sequence(current, num_steps=T)``.
  2. Layers without state (linear, convolution, pooling) do not care which time step a
     sample comes from, so all steps go through them as one big batch ``[T*B, ...]``
     (images in channels-last memory layout, which the CPU's convolutions read fastest).
  3. The neurons run over the whole sequence with ``LIF.sequence``, or ``LIF.spikes`` for
     hidden layers, whose membrane nothing reads. Where a layer's input current is needed
     by nothing else (the autoencoder's BatchNorm outputs), the spikes are written over it,
     ``LIF.spikes(current, inplace=True)``.

Only the neurons carry state from one step to the next, so only they need the time loop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snnlab import buffers, surrogate
from snnlab.neurons import LIF


def _check_num_steps(num_steps: int) -> None:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps!r}")


def _over_time(layer: Callable[[Tensor], Tensor], x_seq: Tensor) -> Tensor:
    """Apply a stateless layer to every step at once: [T, B, ...] -> [T, B, ...].

    Images go in channels-last (NHWC) memory layout: the same numbers, in the order the CPU
    convolution library reads fastest (the result keeps that layout; shapes do not change).
    """
    num_steps, batch = x_seq.shape[:2]
    x = x_seq.flatten(0, 1)
    if x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return layer(x).unflatten(0, (num_steps, batch))


def _batch_norm_over_time(bn: nn.BatchNorm2d, x_seq: Tensor) -> Tensor:
    """BatchNorm at every step, [T, B, C, H, W] -> [T, B, C, H, W], as ``forward_steps`` does.

    BatchNorm cannot see all steps as one batch: while training it normalises with the
    statistics of the batch in front of it, which in ``forward_steps`` is one step's batch
    (and it updates its running statistics once per step). So it runs step by step, the same
    as ``torch.stack([bn(x) for x in x_seq])``, only without the stack's copy (see
    ``_BatchNormPerStep``).
    """
    return _BatchNormPerStep.apply(x_seq, bn.weight, bn.bias, bn)


class _BatchNormPerStep(torch.autograd.Function):
    """PyTorch's own batch-norm kernels, forward and backward, one step at a time.

    Each step's result goes straight into one [T, ...] tensor (and in the backward pass each
    step's gradient into one [T, ...] gradient), both from ``snnlab.buffers``. A plain loop
    of ``bn(x[t])`` would make T tensors that ``torch.stack`` then copies, and autograd would
    copy the T gradients again into one. Training or eval mode: whatever ``bn`` is in.
    """

    @staticmethod
    def forward(ctx, x_seq, weight, bias, bn):
        num_steps, channels = x_seq.shape[0], x_seq.shape[2]
        out = buffers.empty_like(x_seq)
        if out.stride()[1:] != x_seq.stride()[1:]:  # (x_seq expanded over time, say) The
            x_seq = x_seq.contiguous()  # kernel writes out[t] as if it had x_seq[t]'s layout,
            out = buffers.empty_like(x_seq)  # so give both the same, plain one
        mean, invstd = x_seq.new_empty(2, num_steps, channels)  # each step's batch statistics
        for t in range(num_steps):
            if bn.training:
                bn.num_batches_tracked.add_(1)  # as nn.BatchNorm2d.forward counts its calls
            torch.ops.aten.native_batch_norm.out(
                x_seq[t], weight, bias, bn.running_mean, bn.running_var, bn.training,
                bn.momentum, bn.eps, out=out[t], save_mean=mean[t], save_invstd=invstd[t])
        ctx.save_for_backward(x_seq, weight, mean, invstd, bn.running_mean, bn.running_var)
        ctx.training, ctx.eps = bn.training, bn.eps
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x_seq, weight, mean, invstd, running_mean, running_var = ctx.saved_tensors
        grad_x = buffers.empty_like(x_seq)
        grad_weight, grad_bias = weight.new_empty(2, x_seq.shape[0], weight.shape[0])
        for t in range(x_seq.shape[0]):
            torch.ops.aten.native_batch_norm_backward.out(
                grad_out[t], x_seq[t], weight, running_mean, running_var, mean[t], invstd[t],
                ctx.training, ctx.eps, [True, True, True],
                out0=grad_x[t], out1=grad_weight[t], out2=grad_bias[t])
        return grad_x, grad_weight.sum(0), grad_bias.sum(0), None  # summed over the steps


def _conv_norm_spike(conv: nn.Module, bn: nn.BatchNorm2d, lif: LIF, s: Tensor) -> Tensor:
    """LIF(BatchNorm(conv(s))) at every step: the convolution over all steps at once, the
    BatchNorm step by step, and the LIF writing its spikes over the BatchNorm output, which
    nothing else reads (``inplace=True``)."""
    return lif.spikes(_batch_norm_over_time(bn, _over_time(conv, s)), inplace=True)


def _stack(records: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    spikes, membranes = zip(*records, strict=True)
    return torch.stack(spikes), torch.stack(membranes)


class FCSNN(nn.Module):
    """Two fully connected layers of leaky integrate-and-fire neurons (784-1000-10).

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
        _check_num_steps(num_steps)
        self.config = dict(num_inputs=num_inputs, num_hidden=num_hidden,
                           num_outputs=num_outputs, beta=beta, num_steps=num_steps)
        self.num_steps = num_steps
        self.fc1 = nn.Linear(num_inputs, num_hidden)
        self.lif1 = LIF(beta)
        self.fc2 = nn.Linear(num_hidden, num_outputs)
        self.lif2 = LIF(beta)

    def _split_input(self, x: Tensor) -> tuple[Tensor, bool]:
        """Return ``(x, is_static)`` with x as [B, num_inputs] or [T, B, num_inputs]."""
        num_inputs = self.fc1.in_features
        if x.dim() == 3 and x.shape[-1] == num_inputs:
            return x, False
        if x.dim() in (2, 4) and x[0].numel() == num_inputs:
            return x.flatten(1), True
        raise ValueError(
            f"FCSNN: x must be static images [B, {num_inputs}] or [B, 1, H, W] with "
            f"H*W={num_inputs}, or a spike train [T, B, {num_inputs}]; got {tuple(x.shape)}")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x, is_static = self._split_input(x)
        if is_static:  # once, not num_steps times: the same current at every step
            spikes1 = self.lif1.spikes(self.fc1(x), num_steps=self.num_steps)
        else:  # all steps in one matrix product
            spikes1 = self.lif1.spikes(self.fc1(x))
        return self.lif2.sequence(self.fc2(spikes1))

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x, is_static = self._split_input(x)
        num_steps = self.num_steps if is_static else x.shape[0]
        mem1 = mem2 = None  # None: the neurons start at rest
        record = []
        for t in range(num_steps):
            x_t = x if is_static else x[t]
            spk1, mem1 = self.lif1(self.fc1(x_t), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            record.append((spk2, mem2))
        return _stack(record)


def _poisson(probability: Tensor, num_steps: int) -> Tensor:
    """Poisson (rate) spikes ``[num_steps, *probability.shape]``: each entry fires at each
    step with its probability, independently, like ``(torch.rand(num_steps, ...) < p)``.

    A coin is only tossed where the outcome is in doubt (0 < p < 1): a pixel at 0 never fires
    and one at 1 always does. On MNIST that leaves about one pixel in five to draw for. The
    spike train (40 MB for 100 steps of 128 digits) lives in memory from ``snnlab.buffers``.
    """
    spikes = buffers.empty_like(probability.expand(num_steps, *probability.shape))
    spikes.copy_(probability >= 1)  # every step: 1.0 where p = 1, 0.0 elsewhere
    in_doubt = ((probability > 0) & (probability < 1)).flatten().nonzero().squeeze(1)
    p = probability.flatten()[in_doubt]  # [K], one entry per pixel in doubt
    draws = torch.rand(num_steps, p.numel(), dtype=p.dtype, device=p.device)
    coins = torch.lt(draws, p, out=draws)  # [num_steps, K]: 1.0 where u < p, else 0.0
    spikes.view(num_steps, -1).index_copy_(1, in_doubt, coins)
    return spikes


class SingleLayerSNN(nn.Module):
    """784 inputs straight to 10 LIF neurons, no bias, fed by Poisson (rate) spikes.

    SpikingJelly's classic first example. It writes the neuron with a time constant tau::

        U[t] = U[t-1] + (I[t] - U[t-1]) / tau  =  (1 - 1/tau) U[t-1] + I[t] / tau

    which is snnlab's LIF with ``beta = 1 - 1/tau`` and the input current scaled by
    ``1/tau``. Like SpikingJelly's neuron it resets to zero after a spike (``reset="zero"``)
    and uses the arctan surrogate.

    Input: images ``[B, 1, 28, 28]`` or ``[B, 784]`` with values in [0, 1], which the model
    turns into a fresh Poisson spike train of ``num_steps`` steps (each pixel fires with
    probability equal to its value, as with ``snnlab.encoding.rate``; so two calls give
    slightly different answers), or a spike
    train ``[T, B, 784]`` you made yourself. Returns ``(spikes, membrane)``, each ``[T, B, 10]``.
    Train it with ``training.mse_rate``: the correct neuron should fire at every step.
    """

    def __init__(self, tau: float = 2.0, num_steps: int = 100) -> None:
        super().__init__()
        _check_num_steps(num_steps)
        if not tau > 1.0:
            raise ValueError(f"SingleLayerSNN: tau must be > 1 (so 0 < beta < 1), got {tau!r}")
        self.config = dict(tau=tau, num_steps=num_steps)
        self.tau = tau
        self.num_steps = num_steps
        self.fc = nn.Linear(784, 10, bias=False)
        self.lif = LIF(beta=1.0 - 1.0 / tau, reset="zero", surrogate=surrogate.atan())

    def _spike_train(self, x: Tensor) -> Tensor:
        if x.dim() == 3 and x.shape[-1] == 784:
            return x
        if x.dim() in (2, 4) and x[0].numel() == 784:
            return _poisson(x.flatten(1).clamp(0, 1), self.num_steps)  # [T, B, 784]
        raise ValueError(f"SingleLayerSNN: x must be images [B, 784] or [B, 1, 28, 28], or a "
                         f"spike train [T, B, 784]; got {tuple(x.shape)}")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        input_spikes = self._spike_train(x)
        current = self.fc(input_spikes) / self.tau  # all steps in one matrix product
        return self.lif.sequence(current)

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        input_spikes = self._spike_train(x)
        mem = None
        record = []
        for x_t in input_spikes:
            spk, mem = self.lif(self.fc(x_t) / self.tau, mem)
            record.append((spk, mem))
        return _stack(record)


class CSNN(nn.Module):
    """A convolutional SNN: 12C5-MP2-64C5-MP2-1024FC10, with the fast-sigmoid surrogate.

        S1 = LIF(maxpool2(conv5x5(x, 12 channels)))          [B, 12, 12, 12]
        S2 = LIF(maxpool2(conv5x5(S1, 64 channels)))         [B, 64, 4, 4]
        S3 = LIF(linear(flatten(S2), 10))                    [B, 10]

    (each at every step, each LIF with its own membrane). Input: static images
    ``[B, 1, 28, 28]``, the same at every step. Returns ``(spikes, membrane)`` of the
    output layer, each ``[num_steps, B, 10]``.
    """

    def __init__(self, beta: float = 0.5, num_steps: int = 25) -> None:
        super().__init__()
        _check_num_steps(num_steps)
        self.config = dict(beta=beta, num_steps=num_steps)
        self.num_steps = num_steps
        spike = surrogate.fast_sigmoid(25.0)
        self.conv1 = nn.Conv2d(1, 12, 5)
        self.lif1 = LIF(beta, surrogate=spike)
        self.conv2 = nn.Conv2d(12, 64, 5)
        self.lif2 = LIF(beta, surrogate=spike)
        self.fc = nn.Linear(64 * 4 * 4, 10)
        self.lif3 = LIF(beta, surrogate=spike)

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"CSNN: x must be images [B, 1, 28, 28], got {tuple(x.shape)}")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        _, spikes2 = self._hidden_spikes(x)
        return self.lif3.sequence(self.fc(spikes2.flatten(2)))

    def _hidden_spikes(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The spikes of the two convolutional layers, each [T, B, C, H, W]."""
        self._check_input(x)
        current1 = F.max_pool2d(self.conv1(x), 2)  # once: the image is the same at every step
        current1 = current1.contiguous(memory_format=torch.channels_last)  # see _over_time
        spikes1 = self.lif1.spikes(current1, num_steps=self.num_steps)
        current2 = _over_time(lambda s: F.max_pool2d(self.conv2(s), 2), spikes1)
        return spikes1, self.lif2.spikes(current2)

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        self._check_input(x)
        mem1 = mem2 = mem3 = None
        record = []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(F.max_pool2d(self.conv1(x), 2), mem1)
            spk2, mem2 = self.lif2(F.max_pool2d(self.conv2(spk1), 2), mem2)
            spk3, mem3 = self.lif3(self.fc(spk2.flatten(1)), mem3)
            record.append((spk3, mem3))
        return _stack(record)

    def layer_spikes(self, x: Tensor) -> dict[str, Tensor]:
        """The spikes of every layer, time-first, to look inside the network.

        Returns ``{"lif1": [T, B, 12, 12, 12], "lif2": [T, B, 64, 4, 4], "lif3": [T, B, 10]}``
        (keys are the LIF layers' names). The same numbers as ``forward``, whose output spikes
        are ``"lif3"``. Wrap the call in ``torch.no_grad()`` when you only want to look.
        """
        spikes1, spikes2 = self._hidden_spikes(x)
        spikes3 = self.lif3.spikes(self.fc(spikes2.flatten(2)))
        return {"lif1": spikes1, "lif2": spikes2, "lif3": spikes3}


class SpikingAutoencoder(nn.Module):
    """A convolutional spiking autoencoder for 32x32 images.

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
        _check_num_steps(num_steps)
        self.config = dict(latent_dim=latent_dim, beta=beta, num_steps=num_steps,
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

    def _check_input(self, x: Tensor) -> None:
        if x.dim() == 4 and tuple(x.shape[1:]) == (1, 28, 28):
            raise ValueError("SpikingAutoencoder: x is 28x28, but the autoencoder takes 32x32 "
                             "images; load MNIST with size=32 "
                             "(snnlab.data.loaders(..., size=32))")
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 32, 32):
            raise ValueError(f"SpikingAutoencoder: x must be images [B, 1, 32, 32], "
                             f"got {tuple(x.shape)}")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        self._check_input(x)
        # Encoder. The first convolution sees the same image at every step: run it once. Its
        # BatchNorm gives the same output at every step too, but it runs once per step all
        # the same, so that its running statistics are updated as often as in forward_steps.
        current = self.conv1(x).contiguous(memory_format=torch.channels_last)  # see _over_time
        for _ in range(self.num_steps):
            normalized = self.bn1(current)
        s = self.lif1.spikes(normalized, num_steps=self.num_steps)
        s = _conv_norm_spike(self.conv2, self.bn2, self.lif2, s)
        s = _conv_norm_spike(self.conv3, self.bn3, self.lif3, s)
        latent_spikes = self.lif_latent.spikes(self.to_latent(s.flatten(2)))
        # Decoder
        s = self.lif4.spikes(self.from_latent(latent_spikes).unflatten(2, (128, 4, 4)))
        s = _conv_norm_spike(self.deconv1, self.bn5, self.lif5, s)
        s = _conv_norm_spike(self.deconv2, self.bn6, self.lif6, s)
        _, membrane = self.lif_out.sequence(_over_time(self.deconv3, s))
        return latent_spikes, membrane

    def forward_steps(self, x: Tensor) -> tuple[Tensor, Tensor]:
        self._check_input(x)
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


MODELS: tuple[type[nn.Module], ...] = (FCSNN, SingleLayerSNN, CSNN, SpikingAutoencoder)
