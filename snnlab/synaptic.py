"""Neurons with a synaptic current: ``Synaptic`` and ``Alpha``. Lesson 08.

A LIF neuron adds its input straight onto the membrane, so an input spike makes the membrane
jump at once and then leak away. In a real neuron the input first opens synaptic channels,
whose current rises and decays on its own time scale; the membrane integrates that current.
``Synaptic`` adds this one state variable, the synaptic current I_syn, in front of ``LIF``:

    I_syn[t] = alpha * I_syn[t-1] + X[t]                       (X: the input, I_syn[-1] = 0)
    reset[t] = H(U[t-1] - theta)                               (no gradient flows through it)
    U[t]     = beta * U[t-1] + I_syn[t] - reset[t] * theta     reset="subtract"
    U[t]     = (beta * U[t-1] + I_syn[t]) * (1 - reset[t])    reset="zero"
    U[t]     = beta * U[t-1] + I_syn[t]                        reset="none"
    S[t]     = H(U[t] - theta)                                 (surrogate gradient backward)

with U[-1] = 0: snnTorch's ``Synaptic`` equations, the same numbers (tested). One input
spike now gives a membrane that rises over a few steps and decays slowly: the current
smooths the input, and the neuron remembers it for about as long as the slower of alpha
and beta allows. With alpha = 0, I_syn[t] = X[t] and "subtract" and "none" are ``LIF``.

Two snnTorch details kept for parity: the reset comes from the previous membrane, as in
``LIF``; and reset="zero" clears the whole fresh membrane, input of the step included
(``LIF``'s "zero", like snnTorch's ``Leaky``, clears only the old membrane, U[t] =
beta * (1 - reset[t]) * U[t-1] + I[t]). The synaptic current is never reset.

``Alpha`` (snnTorch's ``Alpha``) builds the membrane from two currents instead, one
excitatory that decays with alpha, one inhibitory that decays with beta, both fed the input
with opposite signs:

    I_exc[t] = alpha * I_exc[t-1] + X[t]
    I_inh[t] = beta * I_inh[t-1] - X[t]
    U[t]     = tau_alpha * (I_exc[t] + I_inh[t])
    tau_alpha = ln(alpha) / (ln(beta) - ln(alpha)) + 1
    S[t]     = H(U[t] - theta)
    reset="zero": where reset[t] = H(U[t-1] - theta) = 1, I_exc[t], I_inh[t] and U[t] are 0

So U[t] = tau_alpha * sum_k (alpha^k - beta^k) X[t-k]: an input spike gives the
difference of two exponentials, which starts at 0, peaks a few steps later and decays (an
"alpha function"). It is positive only if alpha > beta, so the constructor asks for
0 < beta < alpha <= 1. The membrane has no leak term of its own: U is a function of the two
currents. snnTorch quirks, found while writing the parity tests (snnTorch 1.0.0): its
docstring gives tau_alpha = ln(alpha)/ln(beta) - ln(alpha) + 1, its code (and this class)
ln(alpha)/(ln(beta) - ln(alpha)) + 1; ``snntorch.Alpha(learn_alpha=True)`` raises a
TypeError (it assigns a clamped tensor over the parameter), so only beta and theta can be
learned there; and its reset="subtract" (its default is "zero") sets I_exc[t] -= theta,
I_inh[t] = 0 and U[t] = tau_alpha * (pre-reset currents) + I_inh[t-1], a membrane that is no
longer tau_alpha * (I_exc[t] + I_inh[t]) of the currents it returns. ``Alpha`` here offers
"zero" and "none" only. (One more, for both: snnTorch's neurons keep their last state, so a
call without one, ``syn_neuron(x)``, goes on from the previous run's state, graph included;
call ``reset_mem()`` first. Here no state means rest.)

The step API returns the new state as a named tuple (``state.syn``, ``state.mem``), None at
rest; ``sequence`` runs all steps, time-first ``[num_steps, batch, ...]``:

    spk, state = neuron(x, state)               # one step: x [batch, ...]
    spk_seq, state_seq = neuron.sequence(x_seq)   # all steps, state_seq.mem [num_steps, ...]

Neither has ``LIF``'s stateful mode.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from snnlab import bptt, checks
from snnlab.neurons import RESET_MODES, unroll
from snnlab.surrogate import Surrogate, atan

__all__ = ["Synaptic", "SynapticState", "Alpha", "AlphaState"]


class SynapticState(NamedTuple):
    """The state of a ``Synaptic`` layer: synaptic current and membrane, each ``[batch, ...]``
    (``[num_steps, batch, ...]`` from ``sequence``)."""

    syn: Tensor
    mem: Tensor


class AlphaState(NamedTuple):
    """The state of an ``Alpha`` layer: excitatory and inhibitory currents and the membrane."""

    exc: Tensor
    inh: Tensor
    mem: Tensor


def _surrogate(surrogate: Surrogate | None) -> Surrogate:
    surrogate = atan() if surrogate is None else surrogate
    if not isinstance(surrogate, Surrogate):
        raise TypeError("surrogate must be an snnlab.surrogate.Surrogate such as atan() or "
                        f"fast_sigmoid(), got {type(surrogate).__name__}")
    return surrogate


def _register(module: nn.Module, name: str, value: Tensor, learn: bool) -> None:
    """``value`` as ``module.<name>``: an ``nn.Parameter`` if learned, else a buffer."""
    checks.boolean(f"learn_{name}", learn)
    if learn:
        setattr(module, name, nn.Parameter(value))
    else:
        module.register_buffer(name, value)


def _decay(name: str, value: float | Tensor) -> Tensor:
    return checks.parameter(name, value, "in [0, 1]", lambda v: (v >= 0) & (v <= 1))


def _threshold(value: float | Tensor) -> Tensor:
    return checks.parameter("threshold", value, "finite and > 0",
                            lambda v: (v > 0) & torch.isfinite(v))


class Synaptic(nn.Module):
    """LIF neuron fed by a decaying synaptic current, snnTorch ``Synaptic`` semantics. Lesson 08.

    The update, word for word what ``forward`` does (I_syn = ``syn``, U = ``mem``, X = ``input``)::

        reset = H(U[t-1] - theta)                      # detached: a 0/1 constant
        I_syn[t] = alpha * I_syn[t-1] + X[t]
        "subtract": U[t] = beta * U[t-1] + I_syn[t] - reset * theta
        "zero":     U[t] = (beta * U[t-1] + I_syn[t]) * (1 - reset)
        "none":     U[t] = beta * U[t-1] + I_syn[t]
        S[t] = surrogate(U[t] - theta)                 # H forward, surrogate backward

    alpha and beta are clamped to [0, 1] at every step, as in ``LIF`` and snnTorch.

    Args: alpha, beta: decay per step of the current and of the membrane, in [0, 1], a float
    or a tensor broadcastable to the neuron shape (one per neuron). threshold: theta, > 0.
    reset: "subtract" (default), "zero" or "none". surrogate: default ``atan()``.
    learn_alpha, learn_beta, learn_threshold: make that value an ``nn.Parameter``.
    """

    def __init__(self, alpha: float | Tensor, beta: float | Tensor,
                 threshold: float | Tensor = 1.0, reset: str = "subtract",
                 surrogate: Surrogate | None = None, learn_alpha: bool = False,
                 learn_beta: bool = False, learn_threshold: bool = False) -> None:
        super().__init__()
        _register(self, "alpha", _decay("alpha", alpha), learn_alpha)
        _register(self, "beta", _decay("beta", beta), learn_beta)
        _register(self, "threshold", _threshold(threshold), learn_threshold)
        self.reset = checks.choice("reset", reset, RESET_MODES)
        self.surrogate = _surrogate(surrogate)

    def forward(self, input: Tensor,
                state: SynapticState | None = None) -> tuple[Tensor, SynapticState]:
        """One step: ``spk, state = neuron(input, state)``; ``state=None`` starts at rest."""
        input = checks.neuron_input("input", input, self._params())
        if state is None:
            syn = mem = torch.zeros_like(input)
        else:
            syn, mem = (checks.neuron_state(f"state.{name}", value, input)
                        for name, value in zip(SynapticState._fields, state, strict=True))

        alpha, beta, theta = self.alpha.clamp(0, 1), self.beta.clamp(0, 1), self.threshold
        reset = (mem > theta).to(input.dtype)  # H(U[t-1] - theta), no gradient
        syn = alpha * syn + input
        if self.reset == "subtract":
            mem = beta * mem + syn - reset * theta
        elif self.reset == "zero":
            mem = (beta * mem + syn) * (1 - reset)
        else:
            mem = beta * mem + syn
        spk = self.surrogate(mem - theta)
        return spk, SynapticState(syn, mem)

    def sequence(self, input_seq: Tensor) -> tuple[Tensor, SynapticState]:
        """All steps from rest: ``[num_steps, batch, ...]`` -> ``(spk_seq, state_seq)``.

        The values and gradients of ``forward`` step by step (tested). For "subtract" and
        "none" the current is computed first, over all steps (``bptt.decay_sequence``: it
        has no reset), and then the membrane is ``LIF``'s, run by ``bptt.lif_sequence``.
        "zero" resets differently from ``LIF``, so it runs the step loop.
        """
        checks.neuron_input("input_seq", input_seq, self._params(), time_first=True)
        if self.reset == "zero":
            return unroll(self, input_seq)
        like = {"dtype": input_seq.dtype, "device": input_seq.device}
        syn_seq = bptt.decay_sequence(input_seq, self.alpha.clamp(0, 1).to(**like))
        spk_seq, mem_seq = bptt.lif_sequence(syn_seq, self.beta.clamp(0, 1).to(**like),
                                             self.threshold.to(**like), self.reset,
                                             self.surrogate.derivative, None)
        return spk_seq, SynapticState(syn_seq, mem_seq)

    def _params(self) -> dict[str, Tensor]:
        return {"alpha": self.alpha, "beta": self.beta, "threshold": self.threshold}

    def extra_repr(self) -> str:
        return (f"alpha={checks.describe(self.alpha)}, beta={checks.describe(self.beta)}, "
                f"threshold={checks.describe(self.threshold)}, reset={self.reset!r}, "
                f"surrogate={self.surrogate!r}")


class Alpha(nn.Module):
    """Membrane = difference of two decaying currents, snnTorch ``Alpha`` semantics. Lesson 08.

    The update, what ``forward`` does (I_exc = ``exc``, I_inh = ``inh``, U = ``mem``)::

        reset = H(U[t-1] - theta)                      # detached: a 0/1 constant
        I_exc[t] = alpha * I_exc[t-1] + X[t]
        I_inh[t] = beta * I_inh[t-1] - X[t]
        U[t] = tau_alpha * (I_exc[t] + I_inh[t])
        tau_alpha = ln(alpha) / (ln(beta) - ln(alpha)) + 1
        "zero": I_exc[t], I_inh[t], U[t] each times (1 - reset)
        S[t] = surrogate(U[t] - theta)

    alpha and beta are clamped to [0, 1] at every step (as snnTorch does). The module
    docstring says where the form comes from and which snnTorch quirks were left out.

    Args: alpha, beta: decays of the excitatory and inhibitory current, 0 < beta < alpha <= 1
    (floats or per-neuron tensors). threshold: theta, > 0. reset: "zero" (default, as in
    snnTorch) or "none". surrogate: default ``atan()``. learn_alpha, learn_beta,
    learn_threshold: make that value an ``nn.Parameter``.
    """

    def __init__(self, alpha: float | Tensor, beta: float | Tensor,
                 threshold: float | Tensor = 1.0, reset: str = "zero",
                 surrogate: Surrogate | None = None, learn_alpha: bool = False,
                 learn_beta: bool = False, learn_threshold: bool = False) -> None:
        super().__init__()
        alpha = checks.parameter("alpha", alpha, "in (0, 1]", lambda v: (v > 0) & (v <= 1))
        beta = checks.parameter("beta", beta, "in (0, 1)", lambda v: (v > 0) & (v < 1))
        if not (alpha > beta).all():
            raise ValueError(f"Alpha needs alpha > beta (else an input makes the membrane go "
                             f"negative), got alpha {checks.describe(alpha)} and beta "
                             f"{checks.describe(beta)}")
        if reset == "subtract":
            raise ValueError("Alpha supports reset 'zero' and 'none'; snnTorch's 'subtract' "
                             "for Alpha leaves a membrane that does not match its currents "
                             "(see the snnlab.synaptic docstring)")
        _register(self, "alpha", alpha, learn_alpha)
        _register(self, "beta", beta, learn_beta)
        _register(self, "threshold", _threshold(threshold), learn_threshold)
        self.reset = checks.choice("reset", reset, ("zero", "none"))
        self.surrogate = _surrogate(surrogate)

    def forward(self, input: Tensor, state: AlphaState | None = None) -> tuple[Tensor, AlphaState]:
        """One step: ``spk, state = neuron(input, state)``; ``state=None`` starts at rest."""
        input = checks.neuron_input("input", input, self._params())
        if state is None:
            exc = inh = mem = torch.zeros_like(input)
        else:
            exc, inh, mem = (checks.neuron_state(f"state.{name}", value, input)
                             for name, value in zip(AlphaState._fields, state, strict=True))

        alpha, beta, theta = self.alpha.clamp(0, 1), self.beta.clamp(0, 1), self.threshold
        reset = (mem > theta).to(input.dtype)  # H(U[t-1] - theta), no gradient
        exc = alpha * exc + input
        inh = beta * inh - input
        tau_alpha = torch.log(alpha) / (torch.log(beta) - torch.log(alpha)) + 1
        mem = tau_alpha * (exc + inh)
        if self.reset == "zero":
            exc, inh, mem = exc * (1 - reset), inh * (1 - reset), mem * (1 - reset)
        spk = self.surrogate(mem - theta)
        return spk, AlphaState(exc, inh, mem)

    def sequence(self, input_seq: Tensor) -> tuple[Tensor, AlphaState]:
        """All steps from rest: ``[num_steps, batch, ...]`` -> ``(spk_seq, state_seq)``.

        The values and gradients of ``forward`` step by step (tested). With reset="none"
        nothing depends on the spikes, so both currents run over all steps at once
        (``bptt.decay_sequence``, the inhibitory one on -X) and the membrane and spikes need
        no loop; "zero" runs the step loop (``neurons.unroll``).
        """
        checks.neuron_input("input_seq", input_seq, self._params(), time_first=True)
        if self.reset == "zero":
            return unroll(self, input_seq)
        like = {"dtype": input_seq.dtype, "device": input_seq.device}
        alpha, beta = self.alpha.clamp(0, 1).to(**like), self.beta.clamp(0, 1).to(**like)
        exc_seq = bptt.decay_sequence(input_seq, alpha)
        inh_seq = bptt.decay_sequence(-input_seq, beta)  # beta * I_inh[t-1] + (-X[t])
        tau_alpha = torch.log(alpha) / (torch.log(beta) - torch.log(alpha)) + 1
        mem_seq = tau_alpha * (exc_seq + inh_seq)
        spk_seq = self.surrogate(mem_seq - self.threshold.to(**like))
        return spk_seq, AlphaState(exc_seq, inh_seq, mem_seq)

    def _params(self) -> dict[str, Tensor]:
        return {"alpha": self.alpha, "beta": self.beta, "threshold": self.threshold}

    def extra_repr(self) -> str:
        return (f"alpha={checks.describe(self.alpha)}, beta={checks.describe(self.beta)}, "
                f"threshold={checks.describe(self.threshold)}, reset={self.reset!r}, "
                f"surrogate={self.surrogate!r}")
