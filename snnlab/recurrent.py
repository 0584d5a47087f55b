"""A recurrent layer of LIF neurons: the spikes of step t-1 come back as input at step t.

Lesson 07. A LIF neuron remembers through its membrane, which leaks: after k steps a trace
of the input is down to beta^k of its size. A recurrent layer adds a second memory: each
neuron's spikes reach every neuron of the layer one step later, through recurrent weights V,
so activity can keep itself going long after its input has gone. With I[t] the input current
from the layer below (``[batch, n]``) and S[-1] = 0, U[-1] = 0:

    reset[t] = H(U[t-1] - theta)                          (= S[t-1]; no gradient)
    U[t]     = beta * U[t-1] + I[t] + V S[t-1] - reset[t] * theta
    S[t]     = H(U[t] - theta)                            (surrogate gradient backward)

that is, ``LIF`` (reset by subtraction) with the current I[t] + V S[t-1]. The recurrent
spikes are those of the *previous* step: S[t] depends on U[t], so it cannot feed U[t] itself.
The gradient flows back through time along both memories: from U[t] to U[t-1] through beta,
and from U[t] to S[t-1] through V and the surrogate, which is how the network learns what to
keep.

The step loop below is the whole implementation; there is no separate fast path. Unlike
``LIF``, whose input is known for all steps in advance, here the input of step t needs the
spikes of step t-1, so the steps cannot be batched. What can be batched, the input weights
applied to every step at once, the models do outside this layer (``RecurrentSNN.forward``).
``bench/lesson07.py`` measures what is left: the loop is about a fifth of a training step of
``RecurrentSNN``, and a fused loop would still have to compute V S[t-1] at every step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snnlab import checks
from snnlab.neurons import LIF
from snnlab.surrogate import Surrogate

__all__ = ["RecurrentLIF"]


class RecurrentLIF(nn.Module):
    """``num_neurons`` LIF neurons whose spikes feed back to all of them one step later.

    The update, what ``forward`` does (U = ``mem``, S[t-1] = ``spk``, I = ``input``)::

        U[t] = beta * U[t-1] + I[t] + V S[t-1] - H(U[t-1] - theta) * theta
        S[t] = H(U[t] - theta)

    V is ``self.recurrent.weight`` (``[n, n]``; ``self.recurrent(S)`` computes S V^T, so
    V[i, j] is the weight from neuron j to neuron i). The neuron itself is ``self.lif``, a
    :class:`snnlab.neurons.LIF` with reset by subtraction. Lesson 07.

    Args:
        num_neurons: n, the size of the layer.
        beta: membrane decay per step, in [0, 1].
        threshold: theta, > 0.
        surrogate: the spike's surrogate gradient (default: ``LIF``'s, atan).

    Shapes: ``forward``: input ``[batch, n]``, spk and mem ``[batch, n]`` or None (at rest)
    -> ``(spk, mem)``. ``sequence``: ``[T, batch, n]`` -> ``(spk_seq, mem_seq)``.

    Dtypes: input, spk and mem in V's dtype (float32, or float64 after ``layer.double()``).
    ``LIF`` alone takes any floating input, its beta and theta following it; V is a weight
    matrix, applied by its ``nn.Linear``, and like the networks of ``snnlab.models`` the
    layer asks for its input in its weights' dtype rather than convert them.
    """

    def __init__(self, num_neurons: int, beta: float, threshold: float = 1.0,
                 surrogate: Surrogate | None = None) -> None:
        super().__init__()
        self.num_neurons = checks.positive_int("num_neurons", num_neurons)
        self.recurrent = nn.Linear(num_neurons, num_neurons, bias=False)  # V
        self.lif = LIF(beta, threshold, reset="subtract", surrogate=surrogate)

    def forward(self, input: Tensor, spk: Tensor | None = None,
                mem: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One step: ``spk, mem = layer(input, spk, mem)``; None starts at rest (S = U = 0)."""
        self._check_input("input", input, 2)
        for name, state in (("spk", spk), ("mem", mem)):
            if state is not None:
                self._check_state(name, state, input)
        if spk is None:
            spk = torch.zeros_like(input)
        current = input + self.recurrent(spk)  # I[t] + V S[t-1]
        return self.lif(current, mem)  # the LIF update, reset from U[t-1]

    def sequence(self, input_seq: Tensor) -> tuple[Tensor, Tensor]:
        """All steps from rest: ``[T, batch, n]`` -> ``(spk_seq, mem_seq)``, each ``[T, batch, n]``.

        The step loop itself: ``forward`` once per step, each step's spikes passed on.
        """
        self._check_input("input_seq", input_seq, 3)
        spk = mem = None
        spikes, membranes = [], []
        for input in input_seq:
            spk, mem = self(input, spk, mem)
            spikes.append(spk)
            membranes.append(mem)
        return torch.stack(spikes), torch.stack(membranes)

    def _check_input(self, name: str, value: object, dims: int) -> None:
        """A finite floating tensor [batch, n] (dims=2) or [T, batch, n], in V's dtype."""
        checks.finite(name, checks.tensor(name, value))
        shape = "[batch, n]" if dims == 2 else "[T, batch, n]"
        if value.dim() != dims or value.shape[-1] != self.num_neurons or 0 in value.shape:
            raise ValueError(f"{name} must be {shape} with n = {self.num_neurons} (num_neurons), "
                             f"got shape {tuple(value.shape)}")
        weight = self.recurrent.weight
        if value.dtype != weight.dtype:
            raise TypeError(f"{name} is {value.dtype} but the recurrent weights V are "
                            f"{weight.dtype}; pass {name}.to({weight.dtype}) (or convert the "
                            f"layer: layer.to({value.dtype}))")

    def _check_state(self, name: str, value: object, input: Tensor) -> None:
        """spk or mem of the previous step: a finite floating tensor like ``input``."""
        meaning = "the previous step's spikes" if name == "spk" else "the previous membrane"
        checks.finite(name, checks.tensor(name, value))
        if (value.shape, value.dtype, value.device) != (input.shape, input.dtype, input.device):
            raise ValueError(f"{name} ({meaning}) must have the input's shape, dtype and "
                             f"device, {tuple(input.shape)} {input.dtype} on {input.device}; "
                             f"got {tuple(value.shape)} {value.dtype} on {value.device}")

    def extra_repr(self) -> str:
        return f"num_neurons={self.num_neurons}"
