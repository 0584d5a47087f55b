"""Leaky integrate-and-fire (LIF) neurons. Lesson 02 derives them; every later lesson uses them.

A LIF neuron is a leaky bucket: each step its membrane potential U decays by a factor beta,
adds the input current I, and when U rises above the threshold theta the neuron spikes and
is reset. With reset[t] = 1 if the neuron spiked on the previous step:

    reset[t] = H(U[t-1] - theta)                             (no gradient flows through it)
    U[t]     = beta * U[t-1] + I[t] - reset[t] * theta       reset="subtract"
    U[t]     = beta * (1 - reset[t]) * U[t-1] + I[t]         reset="zero"
    U[t]     = beta * U[t-1] + I[t]                          reset="none"
    S[t]     = H(U[t] - theta)                               (surrogate gradient backward)

with H(x) = 1 if x > 0 else 0 and U[-1] = 0: snnTorch's ``Leaky`` equations, the same
numbers. Two ways to run them:

    spk, mem = lif(input, mem)            # one step: input [batch, ...]       (this file)
    spk_seq, mem_seq = lif.sequence(x)    # all steps: x [num_steps, batch, ...]  (bptt.py)

``forward`` below is the reference: the equations, line by line. ``sequence`` gives the same
values and gradients with a hand-written backward pass through time in ``snnlab.bptt`` (read
it after lesson 03, or skip it: it changes the speed, never the numbers).

Stateful mode, ``LIF(..., stateful=True)`` (lesson 05): ``lif(input)`` uses and updates
``lif.membrane``. Call ``reset_states(model)`` before every new batch; forgetting it raises a
ValueError when the new batch has another shape or ``loss.backward()`` has been through the
stored membrane. ``sequence`` always starts from U = 0 and never touches ``lif.membrane``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from snnlab import bptt, checks
from snnlab.surrogate import Surrogate, atan

__all__ = ["LIF", "Lapicque", "reset_states", "RESET_MODES", "betas_from_taus",
           "taus_from_betas", "random_betas", "unroll"]

RESET_MODES = ("subtract", "zero", "none")


class LIF(nn.Module):
    """Leaky integrate-and-fire neuron with snnTorch ``Leaky`` semantics. Lesson 02.

    The update, word for word what ``forward`` does (U = ``mem``, I = ``input``)::

        reset = H(U[t-1] - theta)                      # detached: a 0/1 constant
        "subtract": U[t] = beta * U[t-1] + I[t] - reset * theta
        "zero":     U[t] = beta * (1 - reset) * U[t-1] + I[t]
        "none":     U[t] = beta * U[t-1] + I[t]
        S[t] = surrogate(U[t] - theta)                 # H forward, surrogate backward

    The reset comes from the *previous* membrane: a neuron crossing theta at step t spikes at
    t and is reset at t + 1. Like snnTorch, beta is clamped to [0, 1] at every step (a
    learned beta that drifts outside gets gradient 0).

    Args: beta: decay per step in [0, 1], a float or a tensor broadcastable to the neuron
    shape (``[num_neurons]``: one beta per neuron). threshold: theta, finite and > 0, a float
    or a tensor. reset: "subtract", "zero" or "none". surrogate: a ``Surrogate`` (default
    ``atan()``). learn_beta, learn_threshold: make beta / threshold an ``nn.Parameter``.
    stateful: keep the membrane in ``self.membrane`` (see the module docstring).
    """

    def __init__(self, beta: float | Tensor, threshold: float | Tensor = 1.0,
                 reset: str = "subtract", surrogate: Surrogate | None = None,
                 learn_beta: bool = False, learn_threshold: bool = False,
                 stateful: bool = False) -> None:
        super().__init__()
        beta = checks.parameter("beta", beta, "in [0, 1]", lambda b: (b >= 0) & (b <= 1))
        threshold = checks.parameter("threshold", threshold, "finite and > 0",
                                      lambda v: (v > 0) & torch.isfinite(v))
        checks.choice("reset", reset, RESET_MODES)
        surrogate = atan() if surrogate is None else surrogate
        if not isinstance(surrogate, Surrogate):
            raise TypeError("surrogate must be an snnlab.surrogate.Surrogate such as atan() or "
                            f"fast_sigmoid(), got {type(surrogate).__name__}")
        for flag, value in (("learn_beta", learn_beta), ("learn_threshold", learn_threshold),
                            ("stateful", stateful)):
            checks.boolean(flag, value)
        if learn_beta:
            self.beta = nn.Parameter(beta)
        else:
            self.register_buffer("beta", beta)
        if learn_threshold:
            self.threshold = nn.Parameter(threshold)
        else:
            self.register_buffer("threshold", threshold)
        self.reset = reset
        self.surrogate = surrogate
        self.stateful = stateful
        self.membrane: Tensor | None = None  # stateful mode only
        self._membrane_status = {"backpropagated": False}

    def forward(self, input: Tensor, mem: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One time step: ``spk, mem = lif(input, mem)``. ``mem=None`` starts at U = 0."""
        input = self.input_current(self._checked("input", input))
        mem = self._previous_membrane(input, mem)

        beta = self.beta.clamp(0, 1)
        theta = self.threshold
        reset = (mem > theta).to(input.dtype)  # H(U[t-1] - theta), no gradient
        if self.reset == "subtract":
            mem = beta * mem + input - reset * theta
        elif self.reset == "zero":
            mem = beta * (1 - reset) * mem + input
        else:
            mem = beta * mem + input
        spk = self.surrogate(mem - theta)

        if self.stateful:
            self._store_membrane(mem)
        return spk, mem

    def sequence(self, input_seq: Tensor | list[Tensor],
                 num_steps: int | None = None) -> tuple[Tensor, Tensor]:
        """All steps at once, from U = 0: ``[num_steps, batch, ...]`` -> ``(spk_seq, mem_seq)``.

        The values and gradients of ``forward`` step by step (tested). The steps may also come
        as a list of ``[batch, ...]`` tensors (``lif.sequence([bn(x) for x in x_seq])``), which
        saves stacking them. A constant input (a static image through the first layer) can be
        given once: ``lif.sequence(current, num_steps=25)``, current ``[batch, ...]``, equals
        ``lif.sequence(current.expand(25, *current.shape))``. Lesson 04.
        """
        return self._run_sequence(input_seq, num_steps, membrane_returned=True)

    def spikes(self, input_seq: Tensor | list[Tensor], num_steps: int | None = None) -> Tensor:
        """Only ``spk_seq`` of ``sequence(input_seq, num_steps)``, for hidden layers: nobody
        sees the membrane, so the backward pass may reuse its memory. Lesson 04."""
        return self._run_sequence(input_seq, num_steps, membrane_returned=False)[0]

    def _run_sequence(self, input_seq: Tensor | list[Tensor], num_steps: int | None,
                      membrane_returned: bool) -> tuple[Tensor, Tensor]:
        if isinstance(input_seq, (list, tuple)):  # the steps one by one: no need to stack them
            if num_steps is not None:
                raise ValueError("num_steps goes with one constant input [batch, ...], not "
                                 "with a list of steps")
            steps = [self._checked(f"input_seq[{t}]", x)
                     for t, x in enumerate(checks.steps("input_seq", input_seq))]
            first, current = steps[0], tuple(self.input_current(x) for x in steps)
        else:
            first = self._checked("input_seq", input_seq, time_first=num_steps is None)
            current = self.input_current(input_seq)
        if num_steps is not None:  # a constant input [batch, ...]
            checks.positive_int("num_steps", num_steps)
            checks.sequence_size("input_seq", input_seq, num_steps)
        like = {"dtype": first.dtype, "device": first.device}
        return bptt.lif_sequence(current, self.beta.clamp(0, 1).to(**like),
                                 self.threshold.to(**like), self.reset,
                                 self.surrogate.derivative, num_steps, membrane_returned)

    def input_current(self, input: Tensor) -> Tensor:
        """The current I the membrane adds up: the input itself (``Lapicque`` scales it)."""
        return input

    def reset_state(self) -> None:
        """Forget the stored membrane (stateful mode): the next step starts from U = 0."""
        self.membrane = None
        self._membrane_status = {"backpropagated": False}

    def _previous_membrane(self, input: Tensor, mem: Tensor | None) -> Tensor:
        """U[t-1]: the stored membrane (stateful), the one passed in, or zeros."""
        if self.stateful:
            if mem is not None:
                raise ValueError("mem must not be passed to a stateful LIF: it uses "
                                 "self.membrane (pass mem only with stateful=False)")
            mem = self.membrane
            hint = ("the state is left over from an earlier batch. Call "
                    "snnlab.neurons.reset_states(model) before each new batch.")
            if mem is not None and (mem.shape != input.shape or mem.device != input.device):
                raise ValueError(f"this stateful LIF holds a membrane {tuple(mem.shape)} but got "
                                 f"input {tuple(input.shape)}: {hint}")
            if mem is not None and self._membrane_status["backpropagated"]:
                raise ValueError("this stateful LIF's membrane belongs to a graph that "
                                 f"loss.backward() has already used, so {hint}")
        elif mem is not None:
            checks.finite("mem", checks.tensor("mem", mem))
            if mem.shape != input.shape or mem.device != input.device:
                raise ValueError(f"mem must have the input's shape and device, got mem "
                                 f"{tuple(mem.shape)} on {mem.device} for input "
                                 f"{tuple(input.shape)} on {input.device}")
        return torch.zeros_like(input) if mem is None else mem

    def _store_membrane(self, mem: Tensor) -> None:
        self.membrane = mem
        status = {"backpropagated": False}
        self._membrane_status = status
        if mem.requires_grad:  # a hook notes when loss.backward() has been through it
            mem.register_hook(lambda grad: status.update(backpropagated=True))

    def _checked(self, name: str, value: object, time_first: bool = False) -> Tensor:
        """A finite floating tensor; beta and threshold broadcast to its neuron shape."""
        checks.finite(name, checks.tensor(name, value))
        if time_first and (value.dim() == 0 or len(value) == 0):
            raise ValueError(f"{name} must be time-first, [num_steps >= 1, batch, ...], got "
                             f"shape {tuple(value.shape)}")
        neuron_shape = value.shape[1:] if time_first else value.shape
        for param_name in ("beta", "threshold"):
            param_shape = getattr(self, param_name).shape
            try:
                fits = torch.broadcast_shapes(param_shape, neuron_shape) == neuron_shape
            except RuntimeError:
                fits = False
            if not fits:
                raise ValueError(f"{param_name} of shape {tuple(param_shape)} does not "
                                 f"broadcast to {name} of shape {tuple(neuron_shape)}")
        return value

    def extra_repr(self) -> str:
        return (f"beta={checks.describe(self.beta)}, threshold={checks.describe(self.threshold)}, "
                f"reset={self.reset!r}, surrogate={self.surrogate!r}"
                + (", stateful=True" if self.stateful else ""))


def reset_states(module: nn.Module) -> None:
    """Call ``reset_state()`` on every LIF inside ``module`` (itself included). Lesson 05."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for layer in module.modules():
        if isinstance(layer, LIF):
            layer.reset_state()


class Lapicque(LIF):
    """Lapicque's RC-circuit neuron, stepped with forward Euler: a LIF in physical units. Lesson 02.

    A capacitor C (the membrane) parallel to a leak resistor R, fed by a current I, and one
    forward-Euler step of length time_step = dt:

        C dU/dt = I - U / R,        tau = R * C
        U[t+1] = U[t] + dt/C * (I[t+1] - U[t]/R) = (1 - dt/(R C)) * U[t] + (dt/C) * I[t+1]

    That is ``LIF`` with beta = 1 - dt/tau and the input scaled by dt/C (the exact solution
    over one step gives beta = exp(-dt/tau); the Euler beta is its first-order Taylor
    expansion, close when dt << tau). reset="subtract" matches snnTorch's
    ``Lapicque(R=R, C=C, time_step=dt)``; for reset="zero" snnTorch zeroes the fresh U[t+1],
    this class uses the ``Leaky`` reset of ``LIF``.

    Args: R, C: leak resistance and membrane capacitance, > 0. time_step: dt, > 0 and at most
    R*C (so that beta >= 0). threshold, reset, surrogate, stateful: as in ``LIF``.
    """

    def __init__(self, R: float, C: float, time_step: float, threshold: float | Tensor = 1.0,
                 reset: str = "subtract", surrogate: Surrogate | None = None,
                 stateful: bool = False) -> None:
        R, C = checks.positive_number("R", R), checks.positive_number("C", C)
        time_step = checks.number("time_step", time_step, f"> 0 and at most R*C = {R * C:g} "
                                  "(else beta = 1 - time_step/(R*C) is negative)",
                                  lambda dt: 0 < dt <= R * C)
        super().__init__(beta=1 - time_step / (R * C), threshold=threshold, reset=reset,
                         surrogate=surrogate, stateful=stateful)
        self.R, self.C, self.time_step = R, C, time_step

    def input_current(self, input: Tensor) -> Tensor:
        """The Euler step's current term: the input scaled by dt/C."""
        return input * (self.time_step / self.C)

    def extra_repr(self) -> str:
        return f"R={self.R:g}, C={self.C:g}, time_step={self.time_step:g}, " + super().extra_repr()


# ------------------------------------------------------------------------------------------
# Heterogeneous time constants (lesson 08)
#
# A membrane left alone decays as U[t] = beta^t * U[0]; in continuous time that is
# exp(-t dt / tau), so one step of length dt multiplies by beta = exp(-dt / tau), and
# tau = -dt / ln(beta) is the time after which a trace is down to 1/e (37%) of its size.
# ``LIF(beta=random_betas(n, 2, 50), learn_beta=True)`` gives each of n neurons its own
# beta, as a trainable ``nn.Parameter``. ``LIF`` clamps beta to [0, 1] at every step, the
# snnTorch convention: the parameter is beta itself (``lif.beta`` is what a figure shows),
# and whatever an optimizer does to it, the neuron decays by a factor in [0, 1]. The price:
# a beta pushed past 1 acts as 1 and gets gradient 0, so it stays there (a sigmoid
# parameterisation, beta = sigmoid(w), never sticks but hides beta behind w; a trained
# layer with betas at exactly 1 shows where it happened).
# ------------------------------------------------------------------------------------------


def betas_from_taus(taus: float | Tensor, dt: float = 1.0) -> Tensor:
    """beta = exp(-dt / tau) for each time constant tau > 0 (in the unit of dt). Lesson 08."""
    dt = checks.positive_number("dt", dt)
    taus = checks.parameter("taus", taus, "> 0 (a time constant)", lambda v: v > 0)
    return torch.exp(-dt / taus)


def taus_from_betas(betas: float | Tensor, dt: float = 1.0) -> Tensor:
    """tau = -dt / ln(beta) for each beta in (0, 1]: beta = 1 is tau = inf. Lesson 08."""
    dt = checks.positive_number("dt", dt)
    betas = checks.parameter("betas", betas, "in (0, 1]", lambda b: (b > 0) & (b <= 1))
    log_betas = torch.log(betas)
    return torch.where(log_betas < 0, -dt / log_betas, torch.inf)  # (-dt / 0.0 is -inf)


def random_betas(num_neurons: int, tau_min: float, tau_max: float, dt: float = 1.0,
                 generator: torch.Generator | None = None) -> Tensor:
    """``[num_neurons]`` betas whose time constants are spread evenly on a log scale over
    [tau_min, tau_max] (as many neurons with tau in 2-4 as in 20-40), drawn at random with
    ``generator``. Lesson 08."""
    num_neurons = checks.positive_int("num_neurons", num_neurons)
    tau_min = checks.positive_number("tau_min", tau_min)
    tau_max = checks.number("tau_max", tau_max, f">= tau_min = {tau_min:g} and finite",
                            lambda v: tau_min <= v < math.inf)
    u = torch.rand(num_neurons, generator=generator, dtype=torch.float64)
    taus = torch.exp(math.log(tau_min) + u * (math.log(tau_max) - math.log(tau_min)))
    return betas_from_taus(taus, dt).float()


def unroll(neuron: Callable, input_seq: Tensor) -> tuple[Tensor, Tensor | tuple]:
    """The step API over time, from rest: ``spk, state = neuron(input_seq[t], state)`` for
    each t, stacked. Returns ``spk_seq`` ``[num_steps, batch, ...]`` and the states stacked
    the same way: a tensor for ``LIF`` (the membrane), a named tuple of tensors for the
    neurons with more state (``state_seq.mem``, ``state_seq.syn``...). Lesson 08."""
    checks.tensor("input_seq", input_seq)
    if input_seq.dim() == 0 or len(input_seq) == 0:
        raise ValueError(f"input_seq must be time-first, [num_steps >= 1, batch, ...], got "
                         f"shape {tuple(input_seq.shape)}")
    state, spikes, states = None, [], []
    for step_input in input_seq:
        spk, state = neuron(step_input, state)
        spikes.append(spk)
        states.append(state)
    if isinstance(state, Tensor):
        return torch.stack(spikes), torch.stack(states)
    stacked = (torch.stack(seq) for seq in zip(*states, strict=True))
    return torch.stack(spikes), type(state)(*stacked)
