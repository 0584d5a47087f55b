"""An adaptive-threshold LIF neuron (ALIF): each spike raises the threshold, which decays back.
Lesson 08.

A LIF neuron fed a constant current fires at a constant rate for as long as the current
lasts. Real neurons slow down: each spike leaves a trace that makes the next one harder
(spike-frequency adaptation). ALIF adds that trace, the adaptation a, as a second state
variable; the threshold is no longer a constant theta0 but

    a[t]     = rho * a[t-1] + S[t-1]                         (a[-1] = 0)
    theta[t] = theta0 + b * a[t]

and the rest is ``LIF``, with the threshold of the step:

    U[t] = beta * U[t-1] + I[t] - S[t-1] * theta[t-1]       reset="subtract"
    U[t] = beta * (1 - S[t-1]) * U[t-1] + I[t]               reset="zero"
    U[t] = beta * U[t-1] + I[t]                              reset="none"
    S[t] = H(U[t] - theta[t])                                (surrogate gradient backward)

with U[-1] = 0, S[-1] = 0. A spike at t - 1 raises the threshold from step t on by b; the
trace shrinks by rho each step, so the neuron remembers its recent activity for about
1 / (1 - rho) steps, much longer than its membrane does if rho is close to 1: this is the
long memory. The trace is bounded: even a neuron that fires at every step only reaches
a = 1 + rho + rho^2 + ... < 1 / (1 - rho), so theta never passes theta0 + b / (1 - rho).
With b = 0 the threshold stays theta0 and ALIF is ``LIF`` exactly (tested).

Where the form comes from: the LSNN of Bellec, Salaj, Subramoney, Legenstein and Maass
(2018), "Long short-term memory and learning-to-learn in networks of spiking neurons"
(NeurIPS), and its code (github.com/IGITUGraz/LSNN-official, ``ALIF``). There the threshold
is A[t] = v_th + beta_LSNN * b[t] with b[t] = rho * b[t-1] + (1 - rho) z[t-1], rho =
exp(-dt / tau_a), and the membrane decays by alpha = exp(-dt / tau_m). Their b is (1 - rho)
times our a, so their parameters map as

    theta0 = v_th,  beta = alpha = exp(-dt/tau_m),  rho = exp(-dt/tau_a),  b = (1-rho) beta_LSNN

(the e-prop paper, Bellec et al. 2020, writes a[t] = rho * a[t-1] + z[t-1] as here). As in
their code, the reset subtracts the threshold the neuron crossed, theta[t-1], and the
previous spike S[t-1] feeds the adaptation with its surrogate gradient: training can learn
through the threshold. The reset itself gets no gradient, as in ``LIF``. Their input is
scaled by (1 - alpha); here, as in ``LIF``, it is not.

The step API recomputes S[t-1] from the state it is given, S[t-1] = H(U[t-1] - theta[t-1]),
so the state is just (U, a)::

    spk, state = alif(x, state)                  # state.mem, state.a; None at rest
    spk_seq, state_seq = alif.sequence(x_seq)    # the step loop over time

``sequence`` gives the same values and gradients (tested) with a hand-written backward pass
through time, ``bptt.alif_sequence``; ``bench/neurons.py`` measures it against the step loop.
At rest (state None) S[-1] is 0 without being computed, so nothing flows back from it.

No refractory period: it would need a third state variable, an integer count of the steps
since the last spike, that blocks the membrane or the spike for r steps. That gate has no
gradient and breaks the "LIF with a threshold of the step" form above; and the adaptive
threshold already makes a neuron that has just fired harder to fire again.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from snnlab import bptt, checks
from snnlab.neurons import RESET_MODES
from snnlab.surrogate import Surrogate, atan

__all__ = ["ALIF", "ALIFState"]


class ALIFState(NamedTuple):
    """The state of an ``ALIF`` layer: membrane U and adaptation a, each ``[batch, ...]``
    (``[num_steps, batch, ...]`` from ``sequence``)."""

    mem: Tensor
    a: Tensor


class ALIF(nn.Module):
    """Leaky integrate-and-fire neuron with an adaptive threshold (Bellec et al. 2018). Lesson 08.

    The update, word for word what ``forward`` does (U = ``mem``, I = ``input``)::

        spk_prev = surrogate(U[t-1] - theta[t-1])      # S[t-1], theta[t-1] = theta0 + b a[t-1]
        reset = spk_prev, detached                     # a 0/1 constant
        a[t] = rho * a[t-1] + S[t-1]
        theta[t] = theta0 + b * a[t]
        "subtract": U[t] = beta * U[t-1] + I[t] - reset * theta[t-1]
        "zero":     U[t] = beta * (1 - reset) * U[t-1] + I[t]
        "none":     U[t] = beta * U[t-1] + I[t]
        S[t] = surrogate(U[t] - theta[t])

    beta is clamped to [0, 1] at every step, as in ``LIF``.

    Args: beta: membrane decay per step, in [0, 1]. threshold: theta0, the threshold at
    rest, > 0. rho: decay per step of the adaptation, in [0, 1]. b: how much one spike
    raises the threshold, >= 0 (0: plain ``LIF``). Each a float or a per-neuron tensor.
    reset: "subtract" (default), "zero" or "none". surrogate: default ``atan()``.
    learn_beta, learn_threshold: make beta / theta0 an ``nn.Parameter``.
    """

    def __init__(self, beta: float | Tensor, threshold: float | Tensor = 1.0,
                 rho: float | Tensor = 0.95, b: float | Tensor = 0.2,
                 reset: str = "subtract", surrogate: Surrogate | None = None,
                 learn_beta: bool = False, learn_threshold: bool = False) -> None:
        super().__init__()
        beta = checks.parameter("beta", beta, "in [0, 1]", lambda v: (v >= 0) & (v <= 1))
        threshold = checks.parameter("threshold", threshold, "finite and > 0",
                                      lambda v: (v > 0) & torch.isfinite(v))
        rho = checks.parameter("rho", rho, "in [0, 1]", lambda v: (v >= 0) & (v <= 1))
        b = checks.parameter("b", b, "finite and >= 0", lambda v: (v >= 0) & torch.isfinite(v))
        self.reset = checks.choice("reset", reset, RESET_MODES)
        surrogate = atan() if surrogate is None else surrogate
        if not isinstance(surrogate, Surrogate):
            raise TypeError("surrogate must be an snnlab.surrogate.Surrogate such as atan() or "
                            f"fast_sigmoid(), got {type(surrogate).__name__}")
        self.surrogate = surrogate
        for name, value, learn in (("beta", beta, learn_beta),
                                   ("threshold", threshold, learn_threshold)):
            if checks.boolean(f"learn_{name}", learn):
                setattr(self, name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)
        self.register_buffer("rho", rho)
        self.register_buffer("b", b)

    def forward(self, input: Tensor, state: ALIFState | None = None) -> tuple[Tensor, ALIFState]:
        """One step: ``spk, state = alif(input, state)``; ``state=None`` starts at rest."""
        input = checks.neuron_input("input", input, self._params())
        if state is None:  # at rest: U[-1] = a[-1] = S[-1] = 0
            mem = a = spk_prev = torch.zeros_like(input)
            threshold_prev = self.threshold + self.b * a
        else:
            mem, a = (checks.neuron_state(f"state.{name}", value, input)
                      for name, value in zip(ALIFState._fields, state, strict=True))
            threshold_prev = self.threshold + self.b * a  # theta[t-1]
            spk_prev = self.surrogate(mem - threshold_prev)  # S[t-1], surrogate gradient

        beta = self.beta.clamp(0, 1)
        reset = spk_prev.detach()
        a = self.rho * a + spk_prev
        threshold = self.threshold + self.b * a  # theta[t]
        if self.reset == "subtract":
            mem = beta * mem + input - reset * threshold_prev
        elif self.reset == "zero":
            mem = beta * (1 - reset) * mem + input
        else:
            mem = beta * mem + input
        spk = self.surrogate(mem - threshold)
        return spk, ALIFState(mem, a)

    def sequence(self, input_seq: Tensor) -> tuple[Tensor, ALIFState]:
        """All steps from rest: ``[num_steps, batch, ...]`` -> ``(spk_seq, state_seq)``, the
        values and gradients of ``forward`` step by step (tested), computed by
        ``bptt.alif_sequence`` with a hand-written backward pass."""
        checks.neuron_input("input_seq", input_seq, self._params(), time_first=True)
        like = {"dtype": input_seq.dtype, "device": input_seq.device}
        spk_seq, mem_seq, a_seq = bptt.alif_sequence(
            input_seq, self.beta.clamp(0, 1).to(**like), self.threshold.to(**like),
            self.rho.to(**like), self.b.to(**like), self.reset, self.surrogate.derivative)
        return spk_seq, ALIFState(mem_seq, a_seq)

    def threshold_at(self, a: Tensor) -> Tensor:
        """theta = theta0 + b * a for an adaptation a (``state.a``, or ``state_seq.a`` for the
        threshold over time): what a figure draws next to the membrane."""
        return self.threshold + self.b * checks.tensor("a", a)

    def _params(self) -> dict[str, Tensor]:
        return {"beta": self.beta, "threshold": self.threshold, "rho": self.rho, "b": self.b}

    def extra_repr(self) -> str:
        return (f"beta={checks.describe(self.beta)}, threshold={checks.describe(self.threshold)}, "
                f"rho={checks.describe(self.rho)}, b={checks.describe(self.b)}, "
                f"reset={self.reset!r}, surrogate={self.surrogate!r}")
