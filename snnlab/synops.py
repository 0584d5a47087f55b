"""What a spike costs: counting a network's synaptic operations. Lesson 07.

A weight layer of an ordinary network (an ANN) multiplies every input by every weight it
meets: a multiply-accumulate (MAC) per synapse, whatever the input is. A spike is 0 or 1, so
in a spiking layer a synapse only does work when its input spiked, and then the work is an
addition, W[i, j] * 1, an accumulate (AC). For one sample:

    ANN:  MACs = sum over layers of (synapses in the layer)             one pass, every input
    SNN:  ACs  = sum over steps t, layers, and inputs x_j[t] != 0 of fan_out(j)

where fan_out(j) is how many outputs input j reaches: ``out_features`` for a linear layer,
and for a convolution the output channels times the positions whose window covers it (counted
exactly, borders included). ``count`` finds every ``nn.Linear`` and ``nn.Conv2d`` of a model
and counts, with forward hooks, what it was given while the model ran. An input that is not
0/1 (pixels, time averages) costs a MAC per synapse, as in an ANN; the table says which.

What the counts leave out, on purpose, so read them as what they are: the bias additions;
the neurons' own updates (each neuron multiplies its membrane by beta at every step, spiking
or not); and, above all, moving the weights and the spikes through memory, which on real
chips costs more energy than the arithmetic. See lesson 07 for what this means.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snnlab import checks

__all__ = ["LayerOps", "count", "table", "totals"]


@dataclass
class LayerOps:
    """One weight layer's operations, per sample. Lesson 07.

    ``ops``: the operations the spiking network did (over all its steps); ACs when every
    input was 0/1 (``binary``), else MACs. ``ann_macs``: the same layer in an ANN, one dense
    pass. ``nonzero``: the fraction of its inputs that were not 0 (over all steps).
    """

    name: str
    ops: float
    ann_macs: float
    nonzero: float
    binary: bool

    @property
    def kind(self) -> str:
        return "AC" if self.binary else "MAC"


def _layer_ops(layer: nn.Module, x: Tensor) -> tuple[float, float]:
    """(operations for the nonzero inputs of ``x``, MACs of a dense pass over ``x``)."""
    nonzero = (x != 0).to(x.dtype)
    if isinstance(layer, nn.Linear):
        rows = x.numel() // layer.in_features
        return (float(nonzero.sum()) * layer.out_features,
                float(rows * layer.in_features * layer.out_features))
    # Conv2d: each output value sums the inputs under its window; count the nonzero ones.
    if layer.groups != 1:
        raise ValueError(f"count: convolutions with groups != 1 are not supported ({layer})")
    if x.dim() == 3:
        nonzero = nonzero.unsqueeze(0)
    window = torch.ones(1, 1, *layer.kernel_size, dtype=x.dtype, device=x.device)
    covered = F.conv2d(nonzero.sum(1, keepdim=True), window, stride=layer.stride,
                       padding=layer.padding, dilation=layer.dilation)  # [N, 1, H', W']
    dense = (covered.numel() * layer.out_channels * layer.in_channels
             * layer.kernel_size[0] * layer.kernel_size[1])
    return float(covered.sum()) * layer.out_channels, float(dense)


def count(model: nn.Module, x: Tensor, forward: str = "forward") -> list[LayerOps]:
    """Run ``model`` on time-first input ``x`` ``[T, B, ...]``; count each weight layer's ops.

    Returns one :class:`LayerOps` per ``nn.Linear`` / ``nn.Conv2d`` that ran, in the order
    they first ran, each per sample: divided by B, and for ``ann_macs`` also by T (an ANN
    sees each sample once). ``forward="forward_steps"`` runs the step loop instead (the same
    counts). Runs without gradients; the model is left as it was. Lesson 07.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    checks.tensor("x", x)
    if x.dim() < 3:
        raise ValueError(f"x must be time-first [T, B, ...], got shape {tuple(x.shape)}")
    checks.choice("forward", forward, ("forward", "forward_steps"))
    num_steps, batch = x.shape[:2]
    totals: dict[str, list] = {}  # name -> [ops, dense MACs, nonzero inputs, inputs, binary]

    def hook(name: str):
        def record(layer: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
            seen = inputs[0].detach()
            ops, dense = _layer_ops(layer, seen)
            entry = totals.setdefault(name, [0.0, 0.0, 0, 0, True])
            entry[0] += ops
            entry[1] += dense
            entry[2] += int((seen != 0).sum())
            entry[3] += seen.numel()
            entry[4] = entry[4] and bool(((seen == 0) | (seen == 1)).all())
        return record

    handles = [layer.register_forward_hook(hook(name)) for name, layer in model.named_modules()
               if isinstance(layer, (nn.Linear, nn.Conv2d))]
    try:
        with torch.no_grad():
            getattr(model, forward)(x)
    finally:
        for handle in handles:
            handle.remove()
    return [LayerOps(name, ops / batch, dense / (batch * num_steps), nonzero / max(inputs, 1),
                     binary) for name, (ops, dense, nonzero, inputs, binary) in totals.items()]


def totals(layers: list[LayerOps]) -> dict[str, float]:
    """``{"AC": ..., "MAC": ..., "ann_MAC": ...}``: the sums over ``layers``, per sample."""
    return {"AC": sum(layer.ops for layer in layers if layer.binary),
            "MAC": sum(layer.ops for layer in layers if not layer.binary),
            "ann_MAC": sum(layer.ann_macs for layer in layers)}


def table(layers: list[LayerOps]) -> str:
    """The counts as a plain-text table, one row per layer and a total. Lesson 07."""
    rows = [("layer", "inputs != 0", "SNN ops", "kind", "ANN MACs")]
    for layer in layers:
        rows.append((layer.name, f"{layer.nonzero:.1%}", f"{layer.ops:,.0f}", layer.kind,
                     f"{layer.ann_macs:,.0f}"))
    total = totals(layers)
    spent = " + ".join(f"{total[kind]:,.0f} {kind}" for kind in ("AC", "MAC") if total[kind])
    rows.append(("total", "", spent or "0", "", f"{total['ann_MAC']:,.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(w) if i else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)
