"""What a spike costs: counting a network's synaptic operations. Lesson 07.

A weight layer of an ordinary network (an ANN) multiplies every input by every weight it
meets: a multiply-accumulate (MAC) per synapse, whatever the input is. A spike is 0 or 1, so
in a spiking layer a synapse only does work when its input spiked, and then the work is an
addition, W[i, j] * 1, an accumulate (AC). For one sample:

    ANN:  MACs = sum over layers of (synapses in the layer)             one pass, every input
    SNN:  ACs  = sum over steps t, layers, and inputs x_j[t] != 0 of fan_out(j)

where fan_out(j) is how many outputs input j reaches: ``out_features`` for a linear layer;
for a convolution, the output channels (of its group) times the positions whose window
covers it; for a transposed convolution, which spreads each input over a window of outputs,
the output channels times the positions of that window that lie inside the output. Both are
counted exactly, borders included. The ANN's pass is counted as a dense layer computes it:
every weight times every input under it, a convolution's zero padding (and a transposed
convolution's cropped border) included. An input that is not 0/1 (pixels, time averages)
costs a MAC per synapse it reaches, as in an ANN; the table says which.

``count(model, x)`` runs the model on its own input ``x`` with a forward hook on every layer
it counts (``nn.Linear``, ``nn.Conv1d``, ``nn.Conv2d``, ``nn.ConvTranspose1d``,
``nn.ConvTranspose2d``), and gives every number per sample:

- ``x`` is what the model takes: time-first spike trains or events ``[T, B, ...]``
  (``RecurrentSNN``, ``EventCSNN``, ``FCSNN`` given a spike train), or static images
  ``[B, ...]`` that the model repeats over its ``num_steps`` or encodes itself (``FCSNN``,
  ``SingleLayerSNN``, ``CSNN``, ``SpikingAutoencoder``);
- the batch size B is read from what the model returns, time-first ``[T, B, ...]`` as every
  snnlab network's ``(spikes, membrane)``, so a batch of four copies of an image gives the
  numbers of the image alone;
- each row a linear layer is given (each image a convolution is given) is one sample at one
  step, as in every snnlab network: one dense pass over it is the ANN's MACs.

What the counts leave out, on purpose, so read them as what they are: the bias additions;
BatchNorm (a scale and shift per neuron, like the bias; after training it folds into the
layer before it); the neurons' own updates (each neuron multiplies its membrane by beta at
every step, spiking or not); and, above all, moving the weights and the spikes through
memory, which on real chips costs more energy than the arithmetic. Any other layer with
weights is refused by name rather than left out without a word. See lesson 07 for what this
means.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snnlab import checks
from snnlab.i18n import pad, pad_left, tr, width
from snnlab.neurons import LIF

__all__ = ["LayerOps", "COUNTED", "LEFT_OUT", "count", "table", "totals"]

CONVOLUTIONS = (nn.Conv1d, nn.Conv2d)
TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d)
COUNTED = (nn.Linear, *CONVOLUTIONS, *TRANSPOSED)  # the layers whose operations count counts
LEFT_OUT = (LIF, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)  # weights, but no synapses
_CONVOLVE = {1: F.conv1d, 2: F.conv2d}  # by number of spatial dimensions


@dataclass
class LayerOps:
    """One weight layer's operations, per sample. Lesson 07.

    ``ops``: the operations the spiking network did (over all its steps); ACs when every
    input was 0/1 (``binary``), else MACs. ``ann_macs``: the same layer in an ANN, one dense
    pass over one sample. ``nonzero``: the fraction of its inputs that were not 0 (over all
    steps).
    """

    name: str
    ops: float
    ann_macs: float
    nonzero: float
    binary: bool

    @property
    def kind(self) -> str:
        return "AC" if self.binary else "MAC"


def _layer_ops(layer: nn.Module, x: Tensor, output: Tensor) -> tuple[float, float, int]:
    """(operations for the nonzero inputs of ``x``, MACs of a dense pass over ``x``, and how
    many rows (linear) or images (convolutions) ``x`` holds: samples times steps)."""
    nonzero = (x != 0).to(torch.float64)  # float64: the sums stay exact counts
    if isinstance(layer, nn.Linear):
        rows = x.numel() // layer.in_features
        return (float(nonzero.sum()) * layer.out_features,
                float(rows * layer.in_features * layer.out_features), rows)
    spatial = len(layer.kernel_size)
    if x.dim() == spatial + 1:  # one image without a batch dimension
        nonzero, output = nonzero.unsqueeze(0), output.unsqueeze(0)
    images = len(nonzero)
    at_position = nonzero.sum(1, keepdim=True)  # [N, 1, ...]: nonzero inputs, all channels
    window = torch.ones(1, 1, *layer.kernel_size, dtype=torch.float64, device=x.device)
    convolve = _CONVOLVE[spatial]
    outputs_per_input = layer.out_channels // layer.groups  # the output channels it reaches
    taps = math.prod(layer.kernel_size)
    if isinstance(layer, CONVOLUTIONS):
        # Each output position adds the inputs under its window: count the nonzero ones.
        covered = convolve(at_position, window, stride=layer.stride, padding=layer.padding,
                           dilation=layer.dilation)  # [N, 1, ...output positions]
        ops = float(covered.sum()) * outputs_per_input
        dense = (images * math.prod(output.shape[2:]) * layer.out_channels
                 * (layer.in_channels // layer.groups) * taps)
    else:
        # Input j reaches the outputs j * stride - padding + tap * dilation of its window:
        # how many lie inside the output is the same window seen from the output side, a
        # convolution (stride, padding, dilation as the layer's) over the output's positions.
        inside = torch.ones(1, 1, *output.shape[2:], dtype=torch.float64, device=x.device)
        reached = convolve(inside, window, stride=layer.stride, padding=layer.padding,
                           dilation=layer.dilation)
        reached = reached[(..., *(slice(0, n) for n in x.shape[-spatial:]))]  # input positions
        ops = float((at_position * reached).sum()) * outputs_per_input
        dense = (images * math.prod(x.shape[-spatial:]) * layer.in_channels
                 * outputs_per_input * taps)
    return ops, float(dense), images


def count(model: nn.Module, x: Tensor, forward: str = "forward") -> list[LayerOps]:
    """Run ``model`` on ``x`` and count each weight layer's operations, per sample. Lesson 07.

    ``x`` is the model's own input: time-first ``[T, B, ...]`` (spike trains, events), or
    static images ``[B, ...]`` that the model repeats over its ``num_steps`` or encodes
    itself. The model must return, as every snnlab network does, a time-first record
    ``[T, B, ...]`` (or a tuple that starts with one): its B is the batch size. Returns one
    :class:`LayerOps` per counted layer (``COUNTED``) that ran, in the order they first ran:
    ``ops`` summed over the steps and divided by B, ``ann_macs`` one dense pass over one
    sample; the same numbers for one sample as for a batch of copies of it.

    ``forward="forward_steps"`` runs the step loop instead. For time-first input the counts
    are the same; for a static image it runs the first layer at every step, where ``forward``
    runs it once (the same current at every step), so that layer's ops are T times as many:
    ``count`` counts the pass it runs.

    The model runs in its own mode (training or eval: call ``model.eval()`` first for a
    trained network's test-time counts), without gradients, as a copy: the model itself is
    left exactly as it was (mode, parameters, gradients, BatchNorm statistics, a stateful
    LIF's membrane, hooks; hooks you registered run on the copy, as they would on the
    model). A layer with weights that is neither counted nor ``LEFT_OUT``
    (BatchNorm, LIF), say an ``nn.Conv3d``, is refused by name.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    checks.finite("x", checks.tensor("x", x))
    if x.dim() == 0 or 0 in x.shape:
        raise ValueError(f"x is empty, shape {tuple(x.shape)}: count needs at least one sample "
                         "(B >= 1), and for time-first input [T, B, ...] at least one step "
                         "(T >= 1)")
    checks.choice("forward", forward, ("forward", "forward_steps"))
    if forward == "forward_steps" and not callable(getattr(model, "forward_steps", None)):
        raise ValueError(f"forward='forward_steps' needs a model with a forward_steps method "
                         f"(snnlab's networks have one); {type(model).__name__} has none, use "
                         "forward='forward'")
    _check_countable(model)

    runner = _copy(model)  # the copy runs, so the model itself is left as it was
    seen: dict[str, list] = {}  # name -> [ops, dense MACs, rows, nonzero inputs, inputs, binary]

    def hook(name: str):
        def record(layer: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
            given = inputs[0].detach()
            ops, dense, rows = _layer_ops(layer, given, output.detach())
            entry = seen.setdefault(name, [0.0, 0.0, 0, 0, 0, True])
            entry[0] += ops
            entry[1] += dense
            entry[2] += rows
            entry[3] += int((given != 0).sum())
            entry[4] += given.numel()
            entry[5] = entry[5] and bool(((given == 0) | (given == 1)).all())
        return record

    for name, layer in runner.named_modules():
        if isinstance(layer, COUNTED):  # (a bare layer, the model itself, by its class)
            layer.register_forward_hook(hook(name or type(layer).__name__))
    with torch.no_grad():
        output = runner(x) if forward == "forward" else runner.forward_steps(x)
    batch = _batch_size(x, output)
    return [LayerOps(name, ops / batch, dense / rows, nonzero / inputs, binary)
            for name, (ops, dense, rows, nonzero, inputs, binary) in seen.items()]


def _copy(model: nn.Module) -> nn.Module:
    """A deep copy of ``model``, or an error that says why there is none."""
    try:
        return copy.deepcopy(model)
    except RuntimeError as error:  # torch copies only tensors outside a computation graph
        raise ValueError("count runs a copy of the model, so as to leave the model as it was, "
                         "but this one holds a tensor of a computation graph, which cannot be "
                         "copied (a stateful LIF's membrane after a step? Call "
                         "snnlab.neurons.reset_states(model) first)") from error


def _check_countable(model: nn.Module) -> None:
    """Refuse, by name, a layer whose weights count cannot count (rather than skip it)."""
    for name, layer in model.named_modules():
        where = f"layer {name!r}" if name else "the model itself"
        weights = [weight for weight, _ in layer.named_parameters(recurse=False)]
        if weights and not isinstance(layer, COUNTED + LEFT_OUT):
            counted = ", ".join(f"nn.{kind.__name__}" for kind in COUNTED)
            raise ValueError(f"count cannot count {where} ({type(layer).__name__}, weights "
                             f"{', '.join(weights)}): it counts {counted}, and leaves out "
                             "BatchNorm and the LIF neurons' beta and threshold; count that "
                             "layer's operations by hand")
        if isinstance(layer, CONVOLUTIONS + TRANSPOSED) and layer.padding_mode != "zeros":
            raise ValueError(f"count cannot count {where} ({type(layer).__name__} with "
                             f"padding_mode={layer.padding_mode!r}): it counts convolutions "
                             "padded with zeros (padding_mode='zeros')")


def _batch_size(x: Tensor, output: object) -> int:
    """B, from the model's time-first output [T, B, ...], checked against ``x``."""
    record = output[0] if isinstance(output, (tuple, list)) and output else output
    if not isinstance(record, Tensor) or record.dim() < 3:
        got = (f"shape {tuple(record.shape)}" if isinstance(record, Tensor)
               else type(record).__name__)
        raise ValueError("count reads the batch size B from the model's output, which must be "
                         "time-first [T, B, ...] (or a tuple that starts with one), as every "
                         f"snnlab network returns (spikes, membrane); got {got}")
    num_steps, batch = record.shape[:2]
    if x.shape[0] != batch and tuple(x.shape[:2]) != (num_steps, batch):
        raise ValueError(f"the model's output {tuple(record.shape)} reads as T = {num_steps} "
                         f"steps of B = {batch} samples, but x {tuple(x.shape)} is neither "
                         f"static images [B, ...] nor time-first [T, B, ...] of that size; "
                         "count needs a model whose output is time-first")
    return batch


def totals(layers: list[LayerOps]) -> dict[str, float]:
    """``{"AC": ..., "MAC": ..., "ann_MAC": ...}``: the sums over ``layers``, per sample."""
    layers = checks.list_of("layers", layers, LayerOps, "synops.count")
    return {"AC": sum(layer.ops for layer in layers if layer.binary),
            "MAC": sum(layer.ops for layer in layers if not layer.binary),
            "ann_MAC": sum(layer.ann_macs for layer in layers)}


def table(layers: list[LayerOps]) -> str:
    """The counts as a plain-text table, one row per layer and a total, in the course's
    language (``snnlab.i18n``). Lesson 07."""
    layers = checks.list_of("layers", layers, LayerOps, "synops.count")
    rows = [(tr("layer"), tr("inputs != 0"), tr("SNN ops"), tr("kind", context="synops"),
             tr("ANN MACs"))]
    for layer in layers:
        rows.append((layer.name, f"{layer.nonzero:.1%}", f"{layer.ops:,.0f}", layer.kind,
                     f"{layer.ann_macs:,.0f}"))
    total = totals(layers)
    spent = " + ".join(f"{total[kind]:,.0f} {kind}" for kind in ("AC", "MAC") if total[kind])
    rows.append((tr("total"), "", spent or "0", "", f"{total['ann_MAC']:,.0f}"))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad_left(cell, w) if i else pad(cell, w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)
