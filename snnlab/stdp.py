"""Spike-timing-dependent plasticity (STDP) with traces. Lesson 09.

Until lesson 08 every weight was learned by gradient descent on a loss. STDP needs no loss
and no labels: a synapse grows when its input spike comes just before the neuron's output
spike (the input helped to cause it) and shrinks when it comes just after. How much depends
on the time between the two spikes, dt = t_post - t_pre, through the STDP window

    W(dt) =  A_plus  * exp(-dt / tau_plus)     dt >= 0   (pre first, or together: potentiation)
    W(dt) = -A_minus * exp( dt / tau_minus)    dt <  0   (post first: depression)

(Bi and Poo 1998 measured it; Song, Miller and Abbott 2000 made it a learning rule). Summing
W over every pair of spikes would need all the spike times. Traces make it local in time:
each neuron keeps a number that jumps at its spikes and decays between them,

    x[t] = d * x[t-1] + S[t],      d = exp(-1 / tau),  x[-1] = 0              (time in steps)

so that x[t] = sum over the spikes t_k <= t of exp(-(t - t_k) / tau). The traces ADD: two
spikes close together give a trace above 1 (every pre spike pairs with every post spike,
"all-to-all" pairing). Diehl and Cook's code instead SETS the trace to 1 at a spike
("nearest spike" pairing); the two differ only when a second spike comes before the trace
of the first has died away. Here the trace of the inputs uses tau_plus, that of the outputs
tau_minus. With a weight W[i, j] from input i to output j, each step t does

    x_pre[t]  = d_plus * x_pre[t-1] + S_pre[t]                      (this step's pre spike in)
    y[t]      = d_minus * x_post[t-1]                       (post trace, this step's spike NOT in)
    dW[t]     = A_plus * outer(x_pre[t], S_post[t]) - A_minus * outer(S_pre[t], y[t])
    x_post[t] = y[t] + S_post[t]

At a post spike every synapse grows by A_plus times its input's trace: the pre spikes that
came before, each weighted by exp(-dt / tau_plus). At a pre spike the synapse shrinks by
A_minus times the output's trace: the post spikes that came strictly before. A pre and a post
spike in the same step (dt = 0) count once, as potentiation, because x_pre[t] holds this
step's pre spike and y[t] does not hold this step's post spike. With these choices two spikes
dt steps apart change the weight by exactly W(dt) of ``stdp_window`` (tested).

Bounds keep the weights in [0, w_max]:

    bounds="hard":  W[t] = clamp(W[t-1] + dW[t], 0, w_max)
    bounds="soft":  W[t] = W[t-1] + A_plus * (w_max - W[t-1]) * P[t] - A_minus * W[t-1] * D[t]

with P[t] = outer(x_pre[t], S_post[t]) and D[t] = outer(S_pre[t], y[t]). Soft bounds slow
the growth of a weight near w_max and the decay of one near 0, so it never crosses them
as long as A_plus * P and A_minus * D stay below 1.

A batch: the spikes are ``[batch, n]`` at a step (``[num_steps, batch, n]`` over time) and
the weight ``[n_pre, n_post]`` is shared by all samples. The updates of the samples ADD:
P[t] and D[t] are summed over the batch, so a batch of B samples changes the weight as B
samples shown one after another would, if the weight did not change in between (tested:
a batch equals the sum of its samples' updates). With hard bounds the clamp comes after the
sum. Summing, not averaging, keeps A_plus and A_minus "per sample": the same numbers work
for any batch size, and a batch of 1 is the one-sample rule exactly.

    weight, state = stdp_step(weight, pre_spk, post_spk, state, **rule)   # one step
    weight = stdp_sequence(weight, pre_seq, post_seq, **rule)             # all steps from rest
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from snnlab import checks

__all__ = ["STDPState", "BOUNDS", "decay", "trace", "stdp_window", "stdp_step",
           "stdp_sequence"]

BOUNDS = ("hard", "soft")


class STDPState(NamedTuple):
    """The traces of an STDP synapse: ``pre`` [batch, n_pre] and ``post`` [batch, n_post],
    x_pre[t] and x_post[t] of the module docstring. Lesson 09."""

    pre: Tensor
    post: Tensor


def decay(tau: float) -> float:
    """d = exp(-1 / tau): how much a trace keeps per step, for a time constant ``tau`` > 0 in
    steps. Lesson 09."""
    tau = checks.positive_number("tau", tau)
    return math.exp(-1.0 / tau)


def trace(spikes: Tensor, tau: float) -> Tensor:
    """The trace of a spike train, x[t] = exp(-1/tau) * x[t-1] + S[t] with x[-1] = 0. Lesson 09.

    The trace adds: each spike adds 1, whatever the trace was (it does not saturate at 1).

    Args:
        spikes: time-first spikes ``[num_steps, ...]``, any shape after time, floating.
        tau: time constant in steps, > 0.

    Returns:
        the trace, same shape, dtype and device as ``spikes``.
    """
    _spikes("spikes", spikes)
    d = decay(tau)
    x = torch.zeros_like(spikes[0])
    out = torch.empty_like(spikes)
    for t in range(len(spikes)):
        x = d * x + spikes[t]
        out[t] = x
    return out


def stdp_window(dt: float | Tensor, A_plus: float, A_minus: float, tau_plus: float,
                tau_minus: float) -> Tensor:
    """The weight change for one pre and one post spike dt = t_post - t_pre steps apart. Lesson 09.

        W(dt) =  A_plus  * exp(-dt / tau_plus)     dt >= 0
        W(dt) = -A_minus * exp( dt / tau_minus)    dt <  0

    dt = 0 (both in the same step) is potentiation, as ``stdp_step`` counts it.

    Args:
        dt: a number or a tensor of them (in steps; any real number).
        A_plus, A_minus: the heights of the two sides, >= 0.
        tau_plus, tau_minus: their time constants in steps, > 0.

    Returns:
        a tensor of dt's shape (float64 for a number).
    """
    A_plus, A_minus, tau_plus, tau_minus = _rule(A_plus, A_minus, tau_plus, tau_minus)
    if isinstance(dt, Tensor):
        dt = checks.finite("dt", checks.tensor("dt", dt))
    else:
        dt = torch.tensor(checks.number("dt", dt, "finite", math.isfinite), dtype=torch.float64)
    return torch.where(dt >= 0, A_plus * torch.exp(-dt.clamp(min=0) / tau_plus),
                       -A_minus * torch.exp(dt.clamp(max=0) / tau_minus))


def stdp_step(weight: Tensor, pre_spk: Tensor, post_spk: Tensor, state: STDPState | None,
              A_plus: float, A_minus: float, tau_plus: float, tau_minus: float,
              w_max: float = 1.0, bounds: str = "hard") -> tuple[Tensor, STDPState]:
    """One step of pair-based STDP: the equations of the module docstring, line by line. Lesson 09.

        x_pre = d_plus * x_pre + S_pre                 # x_pre[t], this step's pre spike in
        y = d_minus * x_post                           # post trace before this step's spike
        P = sum over the batch of outer(x_pre, S_post) # [n_pre, n_post]
        D = sum over the batch of outer(S_pre, y)
        "hard": W = clamp(W + A_plus * P - A_minus * D, 0, w_max)
        "soft": W = W + A_plus * (w_max - W) * P - A_minus * W * D
        x_post = y + S_post

    Args:
        weight: ``[n_pre, n_post]``, input i to output j; not changed in place.
        pre_spk: ``[batch, n_pre]`` spikes of the inputs at this step.
        post_spk: ``[batch, n_post]`` spikes of the outputs at this step.
        state: the traces after the previous step, or None at rest (all 0).
        A_plus, A_minus: learning rates of potentiation and depression, >= 0.
        tau_plus, tau_minus: time constants in steps of the pre and the post trace, > 0.
        w_max: the upper bound of the weights, > 0 (the lower bound is 0).
        bounds: "hard" (clamp) or "soft" (multiplicative).

    Returns:
        ``(weight, state)``: the new weight and the traces x_pre[t], x_post[t].
    """
    A_plus, A_minus, tau_plus, tau_minus = _rule(A_plus, A_minus, tau_plus, tau_minus)
    w_max = checks.positive_number("w_max", w_max)
    checks.choice("bounds", bounds, BOUNDS)
    _synapse(weight, pre_spk, post_spk, time_first=False)
    if state is None:
        state = STDPState(torch.zeros_like(pre_spk), torch.zeros_like(post_spk))
    else:
        checks.neuron_state("state.pre", state.pre, pre_spk)
        checks.neuron_state("state.post", state.post, post_spk)
    return _step(weight, pre_spk, post_spk, state, A_plus, A_minus, math.exp(-1 / tau_plus),
                 math.exp(-1 / tau_minus), w_max, bounds)


def stdp_sequence(weight: Tensor, pre_seq: Tensor, post_seq: Tensor, A_plus: float,
                  A_minus: float, tau_plus: float, tau_minus: float, w_max: float = 1.0,
                  bounds: str = "hard") -> Tensor:
    """``stdp_step`` over all steps of given spike trains, from rest (traces 0). Lesson 09.

    The spikes are given, not produced by the weight: use it to see what a rule does to a
    pattern of spikes (the STDP window, a test), or in a network that is not driven by
    ``weight``. A network that learns while it runs calls ``stdp_step`` inside its own loop.

    Args:
        weight: ``[n_pre, n_post]``.
        pre_seq: ``[num_steps, batch, n_pre]``; post_seq: ``[num_steps, batch, n_post]``.
        the rest: as ``stdp_step``.

    Returns:
        the weight after the last step.
    """
    A_plus, A_minus, tau_plus, tau_minus = _rule(A_plus, A_minus, tau_plus, tau_minus)
    w_max = checks.positive_number("w_max", w_max)
    checks.choice("bounds", bounds, BOUNDS)
    _synapse(weight, pre_seq, post_seq, time_first=True)
    state = STDPState(torch.zeros_like(pre_seq[0]), torch.zeros_like(post_seq[0]))
    d_plus, d_minus = math.exp(-1 / tau_plus), math.exp(-1 / tau_minus)
    for t in range(len(pre_seq)):
        weight, state = _step(weight, pre_seq[t], post_seq[t], state, A_plus, A_minus,
                              d_plus, d_minus, w_max, bounds)
    return weight


def _step(weight: Tensor, pre_spk: Tensor, post_spk: Tensor, state: STDPState, A_plus: float,
          A_minus: float, d_plus: float, d_minus: float, w_max: float,
          bounds: str) -> tuple[Tensor, STDPState]:
    """``stdp_step`` once its arguments are checked (the network's inner loop calls it)."""
    potentiation, depression, state = _pairs(pre_spk, post_spk, state, d_plus, d_minus,
                                             A_minus > 0)
    return _apply(weight, potentiation, depression, A_plus, A_minus, w_max, bounds), state


def _pairs(pre_spk: Tensor, post_spk: Tensor, state: STDPState, d_plus: float, d_minus: float,
           depress: bool = True) -> tuple[Tensor, Tensor, STDPState]:
    """One step's P[t] and D[t] (summed over the batch) and the new traces; D is a 0 [1, 1]
    when ``depress`` is False (A_minus = 0: a product that would be multiplied by 0)."""
    x_pre = d_plus * state.pre + pre_spk  # x_pre[t]
    y = d_minus * state.post  # x_post[t] without this step's post spike
    fired = post_spk.any(1).nonzero().flatten()  # the samples with a post spike: the others
    potentiation = x_pre[fired].T @ post_spk[fired]  # add 0 to x_pre.T @ post_spk [n_pre, n_post]
    depression = pre_spk.T @ y if depress else post_spk.new_zeros(1, 1)
    return potentiation, depression, STDPState(x_pre, y + post_spk)


def _apply(weight: Tensor, potentiation: Tensor, depression: Tensor, A_plus: float,
           A_minus: float, w_max: float, bounds: str) -> Tensor:
    """The bounded weight change of P and D (one step's, or a sum of steps')."""
    if bounds == "hard":
        return (weight + A_plus * potentiation - A_minus * depression).clamp(0, w_max)
    return weight + A_plus * (w_max - weight) * potentiation - A_minus * weight * depression


def _rule(A_plus: float, A_minus: float, tau_plus: float,
          tau_minus: float) -> tuple[float, float, float, float]:
    nonneg = "finite and >= 0"
    return (checks.number("A_plus", A_plus, nonneg, lambda v: 0 <= v < math.inf),
            checks.number("A_minus", A_minus, nonneg, lambda v: 0 <= v < math.inf),
            checks.positive_number("tau_plus", tau_plus),
            checks.positive_number("tau_minus", tau_minus))


def _spikes(name: str, value: object, time_first: bool = True) -> Tensor:
    checks.finite(name, checks.tensor(name, value))
    if time_first and (value.dim() < 1 or len(value) == 0):
        raise ValueError(f"{name} must be time-first, [num_steps >= 1, ...], got shape "
                         f"{tuple(value.shape)}")
    return value


def _synapse(weight: object, pre: object, post: object, time_first: bool) -> None:
    """weight [n_pre, n_post]; pre [(T,) batch, n_pre] and post [(T,) batch, n_post] alike."""
    checks.finite("weight", checks.tensor("weight", weight))
    if weight.dim() != 2:
        raise ValueError(f"weight must be [n_pre, n_post], got shape {tuple(weight.shape)}")
    dims, form = (3, "[num_steps, batch, n]") if time_first else (2, "[batch, n]")
    names = ("pre_seq", "post_seq") if time_first else ("pre_spk", "post_spk")
    for name, value, n, side in ((names[0], pre, weight.shape[0], "n_pre"),
                                 (names[1], post, weight.shape[1], "n_post")):
        checks.finite(name, checks.tensor(name, value))
        if value.dim() != dims or value.shape[-1] != n or 0 in value.shape:
            raise ValueError(f"{name} must be {form} with n = {side} = {n} (weight is "
                             f"{tuple(weight.shape)}), got shape {tuple(value.shape)}")
    if pre.shape[:-1] != post.shape[:-1]:
        raise ValueError(f"{names[0]} and {names[1]} must agree on "
                         f"{'steps and batch' if time_first else 'the batch'}: "
                         f"{tuple(pre.shape)} and {tuple(post.shape)}")
    if (pre.dtype, pre.device) != (weight.dtype, weight.device) or \
            (post.dtype, post.device) != (weight.dtype, weight.device):
        raise ValueError(f"weight, {names[0]} and {names[1]} must share one dtype and device, "
                         f"got {weight.dtype} on {weight.device}, {pre.dtype} on {pre.device}, "
                         f"{post.dtype} on {post.device}")
