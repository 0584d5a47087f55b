"""Leaky integrate-and-fire (LIF) neurons.

A LIF neuron is a leaky bucket: each step its membrane potential U decays by a factor
beta, adds the input current I, and when U rises above the threshold U_thr the neuron
spikes and is reset. With reset[t] = 1 if the neuron spiked on the previous step:

    reset[t] = H(U[t-1] - U_thr)                             (no gradient flows through it)
    U[t]     = beta * U[t-1] + I[t] - reset[t] * U_thr       reset="subtract"
    U[t]     = beta * (1 - reset[t]) * U[t-1] + I[t]         reset="zero"
    U[t]     = beta * U[t-1] + I[t]                          reset="none"
    S[t]     = H(U[t] - U_thr)                               (surrogate gradient backward)

with H(x) = 1 if x > 0 else 0 and U[-1] = 0. These are snnTorch's ``Leaky`` equations and
give the same numbers. Two ways to run them:

    spk, mem = lif(input, mem)            # one step, for teaching: input [batch, ...]
    spk_seq, mem_seq = lif.sequence(x)    # all steps at once, for speed: x [num_steps, batch, ...]

``sequence`` gives the same values and gradients as looping over ``lif(input, mem)``, but
it runs the loop inside one autograd Function with a hand-written backward pass through
time (see ``_LIFSequence``), so no graph is built step by step. Two variants, same numbers:
``lif.sequence(current, num_steps=T)`` for a constant input ``[batch, ...]`` (the same
current at every step), and ``lif.spikes(x)``, only ``spk_seq``, for hidden layers
(``lif.spikes(x, inplace=True)`` writes them over x, when nothing else needs x).

Stateful mode, ``LIF(..., stateful=True)``: the neuron keeps its membrane in
``lif.membrane`` and ``lif(input)`` (no ``mem`` argument) uses and updates it, still
returning ``(spk, mem)``. This lets a network step through time without passing states
around. Because the state outlives a batch, call ``reset_states(model)`` before every new
batch. Forgetting it is caught, with a ValueError that says so, in the two common cases:
the new batch has a different shape from the stored membrane, or the stored membrane is
part of a graph that ``loss.backward()`` has already been through (detected by a hook
on the membrane, so only if the loss depended on the neuron's last step). Outside those
cases the old state silently carries over into the new batch, so make resetting a habit.
In ``nn.Sequential``, which passes one tensor from layer to layer, wrap the neuron in a
small module that returns only ``spk``. ``sequence`` always starts from U = 0 and neither
reads nor writes ``lif.membrane``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snnlab import buffers
from snnlab.surrogate import Surrogate, atan

__all__ = ["LIF", "Lapicque", "reset_states", "RESET_MODES"]

RESET_MODES = ("subtract", "zero", "none")


def _check_tensor(name: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def _as_parameter_tensor(name: str, value: float | Tensor) -> Tensor:
    """beta or threshold as a floating-point tensor (a float becomes a 0-dim tensor)."""
    if isinstance(value, Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a float or a floating-point tensor, got {value.dtype}")
        return value.detach().clone()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float or a tensor, got {type(value).__name__}")
    return torch.tensor(float(value))


class LIF(nn.Module):
    """Leaky integrate-and-fire neuron with snnTorch ``Leaky`` semantics.

    The update, word for word what ``forward`` does (U = ``mem``, I = ``input``)::

        reset = H(U[t-1] - threshold)                      # detached: a 0/1 constant
        "subtract": U[t] = beta * U[t-1] + I[t] - reset * threshold
        "zero":     U[t] = beta * (1 - reset) * U[t-1] + I[t]
        "none":     U[t] = beta * U[t-1] + I[t]
        S[t] = surrogate(U[t] - threshold)                 # H forward, surrogate backward

    The reset is computed from the *previous* membrane, so a neuron that crosses the
    threshold at step t spikes at step t and is reset at step t + 1 (its U[t] is still
    above threshold). Like snnTorch, beta is clamped to [0, 1] in every step, which
    matters only once a learned beta drifts outside that range (its gradient is then 0).

    Args:
        beta: membrane decay per step, in [0, 1]. A float, or a tensor broadcastable to
            the neuron shape (e.g. ``[num_neurons]``: one beta per neuron).
        threshold: firing threshold, > 0. A float or a broadcastable tensor.
        reset: ``"subtract"``, ``"zero"`` or ``"none"``.
        surrogate: a :class:`snnlab.surrogate.Surrogate`; default ``atan()``.
        learn_beta, learn_threshold: make beta / threshold an ``nn.Parameter``.
        stateful: keep the membrane in ``self.membrane`` (see the module docstring).

    Shapes: ``forward``: input and mem ``[batch, ...]`` -> spk, mem ``[batch, ...]``.
    ``sequence``: ``[num_steps, batch, ...]`` -> spk_seq, mem_seq ``[num_steps, batch, ...]``.
    """

    def __init__(
        self,
        beta: float | Tensor,
        threshold: float | Tensor = 1.0,
        reset: str = "subtract",
        surrogate: Surrogate | None = None,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        stateful: bool = False,
    ) -> None:
        super().__init__()
        beta = _as_parameter_tensor("beta", beta)
        if not ((beta >= 0) & (beta <= 1)).all():
            raise ValueError(f"beta must lie in [0, 1], got {_describe(beta)}")
        threshold = _as_parameter_tensor("threshold", threshold)
        if not (threshold > 0).all() or not torch.isfinite(threshold).all():
            raise ValueError(f"threshold must be finite and > 0, got {_describe(threshold)}")
        if reset not in RESET_MODES:
            raise ValueError(f"reset must be one of {RESET_MODES}, got {reset!r}")
        if surrogate is None:
            surrogate = atan()
        if not isinstance(surrogate, Surrogate):
            raise TypeError(
                "surrogate must be an snnlab.surrogate.Surrogate such as atan() or "
                f"fast_sigmoid(), got {type(surrogate).__name__}"
            )

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
        """One time step: ``spk, mem = lif(input, mem)``. ``mem=None`` starts at zeros."""
        _check_tensor("input", input)
        input = self._input_current(input)
        self._check_broadcast(input.shape, "input")
        if self.stateful:
            if mem is not None:
                raise ValueError(
                    "mem must not be passed to a stateful LIF: it uses self.membrane. "
                    "Create it with stateful=False to pass the membrane yourself."
                )
            mem = self._stored_membrane(input)
        elif mem is None:
            mem = torch.zeros_like(input)
        else:
            _check_tensor("mem", mem)
            if mem.shape != input.shape or mem.device != input.device:
                raise ValueError(
                    f"mem must have the input's shape and device, got mem {tuple(mem.shape)} "
                    f"on {mem.device} for input {tuple(input.shape)} on {input.device}"
                )

        beta = self.beta.clamp(0, 1)
        threshold = self.threshold
        reset = (mem > threshold).to(input.dtype)  # H(U[t-1] - thr), no gradient
        if self.reset == "subtract":
            mem = beta * mem + input - reset * threshold
        elif self.reset == "zero":
            mem = beta * (1 - reset) * mem + input
        else:
            mem = beta * mem + input
        spk = self.surrogate(mem - threshold)

        if self.stateful:
            self._store_membrane(mem)
        return spk, mem

    # ------------------------------------------------------------ all steps
    def sequence(self, input_seq: Tensor, num_steps: int | None = None) -> tuple[Tensor, Tensor]:
        """All steps at once: ``[num_steps, batch, ...]`` -> ``(spk_seq, mem_seq)``, from U = 0.

        Same values and gradients as calling ``forward`` step by step, much faster to train.
        A constant input (the same current at every step, e.g. a static image through the
        first layer) can be given once, ``lif.sequence(current, num_steps=25)`` with
        ``current`` of shape ``[batch, ...]``: the result is that of
        ``lif.sequence(current.expand(25, *current.shape))``, but the backward pass adds up
        the input's gradient as it goes instead of storing it for every step.
        """
        return self._run_sequence(input_seq, num_steps, membrane_returned=True)

    def spikes(self, input_seq: Tensor, num_steps: int | None = None, *,
               inplace: bool = False) -> Tensor:
        """Only the spikes of ``sequence(input_seq, num_steps)``: ``spk_seq``, same values.

        For hidden layers, whose membrane nobody looks at. Since the membrane stays inside,
        the backward pass may overwrite it with its own results, which saves memory and time.

        ``inplace=True`` writes the spikes over ``input_seq`` (like ``nn.ReLU(inplace=True)``)
        and returns it: one [num_steps, ...] tensor fewer to allocate, and step t's spikes go
        where step t's input was just read. Use it when nothing else needs the input
        afterwards. ``input_seq`` must then own its memory: not a view of another tensor
        (``x.unflatten(...)``, ``x[1:]``), not a leaf that requires grad, not a constant input.
        """
        return self._run_sequence(input_seq, num_steps, membrane_returned=False,
                                  inplace=inplace)[0]

    def _run_sequence(self, input_seq: Tensor, num_steps: int | None,
                      membrane_returned: bool, inplace: bool = False) -> tuple[Tensor, Tensor]:
        _check_tensor("input_seq", input_seq)
        if inplace:
            _check_overwritable(input_seq, num_steps)
        # (for Lapicque a scaled copy, which inplace=True then overwrites instead)
        input_seq = self._input_current(input_seq)
        if num_steps is None:
            if input_seq.dim() == 0 or input_seq.shape[0] == 0:
                raise ValueError(
                    "input_seq must be time-first, [num_steps, batch, ...] with num_steps >= 1, "
                    f"got shape {tuple(input_seq.shape)}"
                )
            self._check_broadcast(input_seq.shape[1:], "input_seq[t]")
        else:
            if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
                raise ValueError(f"num_steps must be a positive int or None, got {num_steps!r}")
            self._check_broadcast(input_seq.shape, "input_seq (a constant input)")
        like = {"dtype": input_seq.dtype, "device": input_seq.device}
        beta = self.beta.clamp(0, 1).to(**like)
        threshold = self.threshold.to(**like)
        return _LIFSequence.apply(input_seq, beta, threshold, self.reset,
                                  self.surrogate.derivative, num_steps, membrane_returned,
                                  inplace)

    def _input_current(self, input: Tensor) -> Tensor:
        """The current I the membrane adds up: the input itself (``Lapicque`` scales it)."""
        return input

    # ------------------------------------------------------------ stateful mode
    def reset_state(self) -> None:
        """Forget the stored membrane (stateful mode): the next step starts from U = 0."""
        self.membrane = None
        self._membrane_status = {"backpropagated": False}

    def _stored_membrane(self, input: Tensor) -> Tensor:
        if self.membrane is None:
            return torch.zeros_like(input)
        if self.membrane.shape != input.shape or self.membrane.device != input.device:
            raise ValueError(
                f"this stateful LIF holds a membrane of shape {tuple(self.membrane.shape)} "
                f"but got input of shape {tuple(input.shape)}: the state is left over from an "
                "earlier batch. Call snnlab.neurons.reset_states(model) before each new batch."
            )
        if self._membrane_status["backpropagated"]:
            raise ValueError(
                "this stateful LIF's membrane belongs to a graph that loss.backward() has "
                "already used, so it is left over from an earlier batch. Call "
                "snnlab.neurons.reset_states(model) before each new batch."
            )
        return self.membrane

    def _store_membrane(self, mem: Tensor) -> None:
        self.membrane = mem
        status = {"backpropagated": False}
        self._membrane_status = status
        if mem.requires_grad:

            def note_backward(grad: Tensor) -> None:
                status["backpropagated"] = True

            mem.register_hook(note_backward)

    # ------------------------------------------------------------ helpers
    def _check_broadcast(self, shape: torch.Size, name: str) -> None:
        for param_name in ("beta", "threshold"):
            param_shape = getattr(self, param_name).shape
            try:
                fits = torch.broadcast_shapes(param_shape, shape) == shape
            except RuntimeError:
                fits = False
            if not fits:
                raise ValueError(
                    f"{param_name} of shape {tuple(param_shape)} does not broadcast to "
                    f"{name} of shape {tuple(shape)}"
                )

    def extra_repr(self) -> str:
        return (
            f"beta={_describe(self.beta)}, threshold={_describe(self.threshold)}, "
            f"reset={self.reset!r}, surrogate={self.surrogate!r}"
            + (", stateful=True" if self.stateful else "")
        )


def _check_overwritable(input_seq: Tensor, num_steps: int | None) -> None:
    """The checks of ``spikes(..., inplace=True)``, before autograd would fail deep inside."""
    if num_steps is not None:
        raise ValueError("inplace=True needs a time-first input_seq [num_steps, batch, ...]; "
                         "a constant input (num_steps given) has no room for the spikes")
    if input_seq._base is not None:
        raise ValueError("inplace=True needs an input_seq that owns its memory, but it is a "
                         "view of another tensor (e.g. made by unflatten, view or slicing); "
                         "pass inplace=False or input_seq.clone()")
    if input_seq.is_leaf and input_seq.requires_grad:
        raise ValueError("inplace=True cannot overwrite a leaf tensor that requires grad; "
                         "pass inplace=False")


def _describe(value: Tensor) -> str:
    """A short text for a parameter: the number itself, or the range for per-neuron values."""
    value = value.detach()
    if value.numel() == 1:
        return f"{value.item():g}"
    return f"{tuple(value.shape)} values in [{value.min().item():g}, {value.max().item():g}]"


def reset_states(module: nn.Module) -> None:
    """Call ``reset_state()`` on every LIF inside ``module`` (itself included)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for layer in module.modules():
        if isinstance(layer, LIF):
            layer.reset_state()


class _LIFSequence(torch.autograd.Function):
    """The LIF loop over time with a hand-written backward pass (backpropagation through time).

    Forward, for t = 0 .. T-1 with U[-1] = 0 and reset[t] = H(U[t-1] - thr): the equations
    of ``LIF``. Backward: let g[t] be the gradient reaching U[t] directly, from mem_seq and
    through the spike,

        g[t] = dL/dmem_seq[t] + dL/dspk_seq[t] * surrogate'(U[t] - thr),

    and a[t] = dU[t]/dU[t-1] the decay (beta, or beta * (1 - reset[t]) for "zero"). The
    total gradient on U[t], lam[t], runs backwards in time, the forward loop in reverse:

        lam[T-1] = g[T-1],    lam[t] = g[t] + a[t+1] * lam[t+1]

    and it gives every gradient, summed over time (and over the batch for the parameters,
    down to their shape):

        dL/dI[t] = lam[t]                                (a constant input: sum_t lam[t])
        dL/dbeta = sum_t lam[t] * U[t-1]                 (* (1 - reset[t]) for "zero")
        dL/dthr  = -sum_t dL/dspk_seq[t] * surrogate'(U[t] - thr)
                   -sum_t lam[t] * reset[t]              (only for "subtract")

    Why it is fast: both loops work one step at a time, in place, on tensors the size of
    one step, which stay in the CPU cache; no autograd graph is built, step by step. The
    only whole-sequence tensors are the two outputs (the spikes written over the input, if
    ``inplace``) and, for a time-varying input, its gradient. They come from
    ``snnlab.buffers``, which hands out again memory that no tensor uses any more: fresh
    memory from the operating system would cost as much time as the loop itself.
    ``input`` is ``[T, B, ...]``, or ``[B, ...]`` used at each of ``num_steps``.
    """

    @staticmethod
    def forward(ctx, input, beta, threshold, reset_mode, derivative, num_steps,
                membrane_returned, inplace):
        constant = num_steps is not None  # the same input at every step
        if constant:  # every step in the input's memory layout (e.g. channels-last images)
            step = torch.empty_like(input, device="meta")  # one step, only for its strides
            mem_seq = buffers.empty_strided(input, (num_steps, *step.shape),
                                            (step.numel(), *step.stride()))
        else:
            num_steps = input.shape[0]
            mem_seq = buffers.empty_like(input)  # in the input's memory layout, if it has one
        if inplace:  # spikes(..., inplace=True): S[t] goes where I[t] was, once it is read
            ctx.mark_dirty(input)
            spk_seq = input
        else:
            spk_seq = buffers.empty_like(mem_seq)
        mem = torch.zeros_like(mem_seq[0])  # U[-1]
        reset = (mem > threshold).to(mem.dtype)  # reset[0] = H(U[-1] - thr)
        decay = torch.empty_like(mem)
        # A few in-place ops per step, written straight into the outputs. They round exactly
        # like the step API (beta * U, then + I, then - reset * thr), so the values are equal.
        for t in range(num_steps):
            current = input if constant else input[t]
            new = mem_seq[t]
            if reset_mode == "zero":
                torch.addcmul(beta, reset, beta, value=-1, out=decay)  # beta * (1 - reset)
                torch.mul(decay, mem, out=new).add_(current)
            else:
                torch.mul(beta, mem, out=new).add_(current)
                if reset_mode == "subtract":
                    new.addcmul_(reset, threshold, value=-1)  # - reset[t] * thr
            torch.gt(new, threshold, out=spk_seq[t])  # S[t] = H(U[t] - thr)
            mem, reset = new, spk_seq[t]  # S[t] is reset[t + 1]
        ctx.save_for_backward(mem_seq, spk_seq, beta, threshold)
        ctx.reset_mode, ctx.derivative, ctx.constant = reset_mode, derivative, constant
        ctx.membrane_returned = membrane_returned
        ctx.set_materialize_grads(False)
        return spk_seq, mem_seq

    @staticmethod
    def backward(ctx, grad_spk, grad_mem):
        mem_seq, spk_seq, beta, threshold = ctx.saved_tensors
        need_input, need_beta, need_threshold = ctx.needs_input_grad[:3]
        mode, derivative = ctx.reset_mode, ctx.derivative
        if grad_spk is None and grad_mem is None:
            return None, None, None, None, None, None, None, None

        num_steps = mem_seq.shape[0]
        keep_every_lam = need_input and not ctx.constant  # then lam is dL/dI, every step
        if keep_every_lam and not ctx.membrane_returned:
            # Nobody else holds mem_seq (LIF.spikes), and U[t] is read for the last time just
            # before lam[t] is written: lam[t] can take its place. (A second backward through
            # this graph, retain_graph=True, is then refused by autograd's in-place check.)
            lam_seq = mem_seq
        elif keep_every_lam:
            lam_seq = buffers.empty_like(mem_seq)
        else:
            lam_seq = mem_seq.new_empty((2, *mem_seq.shape[1:]))  # just lam[t] and lam[t+1]
        grad_input = torch.zeros_like(mem_seq[0]) if need_input and ctx.constant else None
        grad_beta = torch.zeros_like(beta) if need_beta else None
        grad_threshold = torch.zeros_like(threshold) if need_threshold else None

        for t in range(num_steps - 1, -1, -1):
            lam = lam_seq[t] if keep_every_lam else lam_seq[t % 2]
            # g[t] = dL/dmem_seq[t] + dL/dspk_seq[t] * surrogate'(U[t] - thr)
            if grad_spk is None:
                lam.copy_(grad_mem[t])
            else:
                surrogate_grad = derivative(mem_seq[t] - threshold)
                if grad_mem is None:
                    torch.mul(grad_spk[t], surrogate_grad, out=lam)
                else:
                    torch.addcmul(grad_mem[t], grad_spk[t], surrogate_grad, out=lam)
                if need_threshold:
                    grad_threshold -= (grad_spk[t] * surrogate_grad).sum_to_size(threshold.shape)
            # + a[t+1] * lam[t+1], where a[t+1] = beta * (1 - reset[t+1]) and reset[t+1] = S[t]
            if t + 1 < num_steps:
                lam_next = lam_seq[t + 1] if keep_every_lam else lam_seq[(t + 1) % 2]
                decay = beta * (1 - spk_seq[t]) if mode == "zero" else beta
                lam.addcmul_(decay, lam_next)

            if grad_input is not None:
                grad_input += lam
            if not (need_beta or need_threshold):
                continue
            if t > 0:
                mem_prev, reset = mem_seq[t - 1], spk_seq[t - 1]  # U[t-1] and reset[t]
            else:
                mem_prev = torch.zeros_like(lam)
                reset = (mem_prev > threshold).to(lam.dtype)
            if need_beta:
                drive = mem_prev * (1 - reset) if mode == "zero" else mem_prev  # dU[t]/dbeta
                grad_beta += (lam * drive).sum_to_size(beta.shape)
            if need_threshold and mode == "subtract":
                grad_threshold -= (lam * reset).sum_to_size(threshold.shape)

        if keep_every_lam:
            grad_input = lam_seq
        return grad_input, grad_beta, grad_threshold, None, None, None, None, None


class Lapicque(LIF):
    """Lapicque's RC-circuit neuron, stepped with forward Euler: a LIF with physical units.

    A capacitor C (the membrane) in parallel with a leak resistor R, fed by a current I:

        C dU/dt = I - U / R,        tau = R * C

    One forward-Euler step of length time_step = dt:

        U[t+1] = U[t] + dt/C * (I[t+1] - U[t]/R) = (1 - dt/(R C)) * U[t] + (dt/C) * I[t+1]

    which is ``LIF`` with beta = 1 - dt/tau and input current scaled by dt/C. (Solving the
    equation exactly over one step gives beta = exp(-dt/tau) instead; the Euler beta is
    its first-order Taylor expansion, close when dt << tau.) Threshold, reset and
    surrogate work as in ``LIF``, and for reset="subtract" this matches snnTorch's
    ``Lapicque(R=R, C=C, time_step=dt)``. For reset="zero" it uses the ``Leaky`` reset of
    ``LIF``; snnTorch's ``Lapicque`` instead zeroes the freshly updated U[t+1].

    Args:
        R: leak resistance, > 0.      C: membrane capacitance, > 0.
        time_step: dt, > 0 and at most R*C (so that beta >= 0).
        threshold, reset, surrogate, stateful: as in ``LIF``.
    """

    def __init__(
        self,
        R: float,
        C: float,
        time_step: float,
        threshold: float | Tensor = 1.0,
        reset: str = "subtract",
        surrogate: Surrogate | None = None,
        stateful: bool = False,
    ) -> None:
        for name, value in (("R", R), ("C", C), ("time_step", time_step)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number > 0, got {type(value).__name__}")
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if time_step > R * C:
            raise ValueError(
                f"time_step must be at most R*C = {R * C:g} (else beta = 1 - time_step/(R*C) "
                f"is negative), got {time_step:g}"
            )
        super().__init__(
            beta=1 - time_step / (R * C),
            threshold=threshold,
            reset=reset,
            surrogate=surrogate,
            stateful=stateful,
        )
        self.R, self.C, self.time_step = float(R), float(C), float(time_step)

    def _input_current(self, input: Tensor) -> Tensor:
        """The Euler step's current term: the input scaled by dt/C (every API comes here)."""
        return input * (self.time_step / self.C)

    def extra_repr(self) -> str:
        return f"R={self.R:g}, C={self.C:g}, time_step={self.time_step:g}, " + super().extra_repr()
