"""Leaky integrate-and-fire (LIF) neurons. Lesson 02 derives them; every later lesson uses them.

A LIF neuron is a leaky bucket: each step its membrane potential U decays by a factor beta,
adds the input current I, and when U rises above the threshold theta the neuron spikes and
is reset. With reset[t] = 1 if the neuron spiked on the previous step:

    reset[t] = H(U[t-1] - theta)                             (no gradient flows through it)
    U[t]     = beta * U[t-1] + I[t] - reset[t] * theta       reset="subtract"
    U[t]     = beta * (1 - reset[t]) * U[t-1] + I[t]         reset="zero"
    U[t]     = beta * U[t-1] + I[t]                          reset="none"
    S[t]     = H(U[t] - theta)                               (surrogate gradient backward)

with H(x) = 1 if x > 0 else 0 and U[-1] = 0. These are snnTorch's ``Leaky`` equations and
give the same numbers. Two ways to run them:

    spk, mem = lif(input, mem)            # one step: input [batch, ...]       (this file)
    spk_seq, mem_seq = lif.sequence(x)    # all steps: x [num_steps, batch, ...]  (bptt.py)

``forward`` below is the reference: the equations, line by line. ``sequence`` gives the same
values and gradients as looping over it, but runs the loop inside one autograd Function with
a hand-written backward pass through time, which lives in ``snnlab.bptt`` (read it after
lesson 03, or skip it: it changes the speed, never the numbers).

Stateful mode, ``LIF(..., stateful=True)``: the neuron keeps its membrane in
``lif.membrane`` and ``lif(input)`` (no ``mem`` argument) uses and updates it, so a network
can step through time without passing states around (lesson 05). Call
``reset_states(model)`` before every new batch. Forgetting it is caught, with a ValueError
that says so, when the new batch has another shape, or when ``loss.backward()`` has already
been through the stored membrane. ``sequence`` always starts from U = 0 and neither reads
nor writes ``lif.membrane``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snnlab import bptt, checks
from snnlab.surrogate import Surrogate, atan

__all__ = ["LIF", "Lapicque", "reset_states", "RESET_MODES"]

RESET_MODES = ("subtract", "zero", "none")


class LIF(nn.Module):
    """Leaky integrate-and-fire neuron with snnTorch ``Leaky`` semantics. Lesson 02.

    The update, word for word what ``forward`` does (U = ``mem``, I = ``input``)::

        reset = H(U[t-1] - theta)                      # detached: a 0/1 constant
        "subtract": U[t] = beta * U[t-1] + I[t] - reset * theta
        "zero":     U[t] = beta * (1 - reset) * U[t-1] + I[t]
        "none":     U[t] = beta * U[t-1] + I[t]
        S[t] = surrogate(U[t] - theta)                 # H forward, surrogate backward

    The reset is computed from the *previous* membrane, so a neuron that crosses the
    threshold at step t spikes at step t and is reset at step t + 1 (its U[t] is still
    above theta). Like snnTorch, beta is clamped to [0, 1] in every step, which matters
    only once a learned beta drifts outside that range (its gradient is then 0).

    Args:
        beta: membrane decay per step, in [0, 1]. A float, or a tensor broadcastable to
            the neuron shape (e.g. ``[num_neurons]``: one beta per neuron).
        threshold: theta, the firing threshold, finite and > 0. A float or a tensor.
        reset: ``"subtract"``, ``"zero"`` or ``"none"``.
        surrogate: a :class:`snnlab.surrogate.Surrogate`; default ``atan()``.
        learn_beta, learn_threshold: make beta / threshold an ``nn.Parameter``.
        stateful: keep the membrane in ``self.membrane`` (see the module docstring).

    Shapes: ``forward``: input and mem ``[batch, ...]`` -> spk, mem ``[batch, ...]``.
    ``sequence``: ``[num_steps, batch, ...]`` -> spk_seq, mem_seq ``[num_steps, batch, ...]``.
    """

    def __init__(self, beta: float | Tensor, threshold: float | Tensor = 1.0,
                 reset: str = "subtract", surrogate: Surrogate | None = None,
                 learn_beta: bool = False, learn_threshold: bool = False,
                 stateful: bool = False) -> None:
        super().__init__()
        beta = _parameter_tensor("beta", beta, "in [0, 1]", lambda b: (b >= 0) & (b <= 1))
        threshold = _parameter_tensor("threshold", threshold, "finite and > 0",
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

    # ---------------------------------------------------------------- one step
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

    # ---------------------------------------------------------------- all steps
    def sequence(self, input_seq: Tensor, num_steps: int | None = None) -> tuple[Tensor, Tensor]:
        """All steps at once, from U = 0: ``[num_steps, batch, ...]`` -> ``(spk_seq, mem_seq)``.

        The same values and gradients as calling ``forward`` step by step (tested), computed
        by ``snnlab.bptt``. A constant input, the same current at every step (a static image
        through the first layer), can be given once: ``lif.sequence(current, num_steps=25)``
        with ``current`` of shape ``[batch, ...]`` equals
        ``lif.sequence(current.expand(25, *current.shape))``. Lesson 04.
        """
        return self._run_sequence(input_seq, num_steps, membrane_returned=True)

    def spikes(self, input_seq: Tensor, num_steps: int | None = None) -> Tensor:
        """Only ``spk_seq`` of ``sequence(input_seq, num_steps)``, for hidden layers.

        Since nobody sees the membrane, the backward pass may reuse its memory. Lesson 04.
        """
        return self._run_sequence(input_seq, num_steps, membrane_returned=False)[0]

    def _run_sequence(self, input_seq: Tensor, num_steps: int | None,
                      membrane_returned: bool) -> tuple[Tensor, Tensor]:
        if num_steps is not None:  # a constant input [batch, ...]
            checks.positive_int("num_steps", num_steps)
        self._checked("input_seq", input_seq, time_first=num_steps is None)
        like = {"dtype": input_seq.dtype, "device": input_seq.device}
        return bptt.lif_sequence(self.input_current(input_seq), self.beta.clamp(0, 1).to(**like),
                                 self.threshold.to(**like), self.reset,
                                 self.surrogate.derivative, num_steps, membrane_returned)

    def input_current(self, input: Tensor) -> Tensor:
        """The current I the membrane adds up: the input itself (``Lapicque`` scales it)."""
        return input

    # ---------------------------------------------------------------- stateful mode
    def reset_state(self) -> None:
        """Forget the stored membrane (stateful mode): the next step starts from U = 0."""
        self.membrane = None
        self._membrane_status = {"backpropagated": False}

    def _previous_membrane(self, input: Tensor, mem: Tensor | None) -> Tensor:
        """U[t-1]: the stored membrane (stateful), the one passed in, or zeros."""
        if self.stateful:
            if mem is not None:
                raise ValueError("mem must not be passed to a stateful LIF: it uses "
                                 "self.membrane. Create it with stateful=False to pass the "
                                 "membrane yourself.")
            mem = self.membrane
            hint = ("the state is left over from an earlier batch. Call "
                    "snnlab.neurons.reset_states(model) before each new batch.")
            if mem is not None and (mem.shape != input.shape or mem.device != input.device):
                raise ValueError(f"this stateful LIF holds a membrane of shape "
                                 f"{tuple(mem.shape)} but got input of shape "
                                 f"{tuple(input.shape)}: {hint}")
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

    # ---------------------------------------------------------------- checks
    def _checked(self, name: str, value: object, time_first: bool = False) -> Tensor:
        """A finite floating tensor; beta and threshold broadcast to its neuron shape."""
        checks.finite(name, checks.tensor(name, value))
        if time_first and (value.dim() == 0 or len(value) == 0):
            raise ValueError(f"{name} must be time-first, [num_steps, batch, ...] with "
                             f"num_steps >= 1, got shape {tuple(value.shape)}")
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
        return (f"beta={_describe(self.beta)}, threshold={_describe(self.threshold)}, "
                f"reset={self.reset!r}, surrogate={self.surrogate!r}"
                + (", stateful=True" if self.stateful else ""))


def _parameter_tensor(name: str, value: float | Tensor, allowed: str, ok) -> Tensor:
    """beta or threshold as a floating-point tensor (a number becomes a 0-dim tensor)."""
    if isinstance(value, Tensor):
        checks.tensor(name, value)
        value = value.detach().clone()
    else:
        value = torch.tensor(checks.number(name, value, allowed, lambda v: True))
    if not ok(value).all():
        raise ValueError(f"{name} must be {allowed}, got {_describe(value)}")
    return value


def _describe(value: Tensor) -> str:
    """A short text for a parameter: the number itself, or the range for per-neuron values."""
    value = value.detach()
    if value.numel() == 1:
        return f"{value.item():g}"
    return f"{tuple(value.shape)} values in [{value.min().item():g}, {value.max().item():g}]"


def reset_states(module: nn.Module) -> None:
    """Call ``reset_state()`` on every LIF inside ``module`` (itself included). Lesson 05."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for layer in module.modules():
        if isinstance(layer, LIF):
            layer.reset_state()


class Lapicque(LIF):
    """Lapicque's RC-circuit neuron, stepped with forward Euler: a LIF in physical units.

    A capacitor C (the membrane) in parallel with a leak resistor R, fed by a current I:

        C dU/dt = I - U / R,        tau = R * C

    One forward-Euler step of length time_step = dt:

        U[t+1] = U[t] + dt/C * (I[t+1] - U[t]/R) = (1 - dt/(R C)) * U[t] + (dt/C) * I[t+1]

    which is ``LIF`` with beta = 1 - dt/tau and the input current scaled by dt/C. (Solving
    the equation exactly over one step gives beta = exp(-dt/tau) instead; the Euler beta is
    its first-order Taylor expansion, close when dt << tau.) For reset="subtract" this
    matches snnTorch's ``Lapicque(R=R, C=C, time_step=dt)``. For reset="zero" it uses the
    ``Leaky`` reset of ``LIF``; snnTorch's ``Lapicque`` zeroes the fresh U[t+1] instead.
    Lesson 02.

    Args:
        R: leak resistance, > 0.      C: membrane capacitance, > 0.
        time_step: dt, > 0 and at most R*C (so that beta >= 0).
        threshold, reset, surrogate, stateful: as in ``LIF``.
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
