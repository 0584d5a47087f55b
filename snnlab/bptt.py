"""The fast path: a LIF layer over all time steps, with a hand-written backward pass.

You may skip this module: it changes how fast ``LIF.sequence`` and ``LIF.spikes`` run, never
the numbers they give (tests check values and gradients against the step loop of
``snnlab.neurons``). Read it after lesson 03 if you want to see backpropagation through time
(BPTT) written out by hand.

Forward, for t = 0 .. T-1 with U[-1] = 0 and reset[t] = H(U[t-1] - theta): the equations of
``LIF``. Backward: let g[t] be the gradient reaching U[t] directly, from mem_seq and through
the spike,

    g[t] = dL/dmem_seq[t] + dL/dspk_seq[t] * surrogate'(U[t] - theta),

and a[t] = dU[t]/dU[t-1] the decay (beta, or beta * (1 - reset[t]) for "zero"). The total
gradient on U[t], lam[t], runs backwards in time, the forward loop in reverse:

    lam[T-1] = g[T-1],    lam[t] = g[t] + a[t+1] * lam[t+1]

and it gives every gradient, summed over time (and over the batch for the parameters, down
to their shape):

    dL/dI[t]   = lam[t]                                (a constant input: sum_t lam[t])
    dL/dbeta   = sum_t lam[t] * U[t-1]                 (* (1 - reset[t]) for "zero")
    dL/dtheta  = -sum_t dL/dspk_seq[t] * surrogate'(U[t] - theta)
                 -sum_t lam[t] * reset[t]              (only for "subtract")

Why it is faster than autograd over the step loop: no graph is built step by step; the
forward loop writes each step in place into the outputs; and the backward loop works in
blocks of about ``BLOCK_ELEMENTS`` numbers, which stay in the CPU cache with all their
temporaries (a slice of the batch at each step for a big layer, the whole batch over many
steps for a small one, which then also needs few operations). The whole-sequence tensors
(the two outputs and, for a time-varying input, its gradient) come from ``_empty``, which
on the CPU hands out again memory that no tensor uses any more (see ``REUSE_MEMORY``).
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable

import torch
from torch import Tensor

from snnlab import config

__all__ = ["lif_sequence", "decay_sequence", "alif_sequence", "REUSE_MEMORY", "MAX_CACHED_BYTES",
           "cached_bytes"]

BLOCK_ELEMENTS = 1 << 18  # the backward pass works on about this many numbers at a time (1 MB)


def lif_sequence(input: Tensor | tuple[Tensor, ...], beta: Tensor, threshold: Tensor,
                 reset: str, derivative: Callable[[Tensor], Tensor], num_steps: int | None,
                 membrane_returned: bool = True) -> tuple[Tensor, Tensor]:
    """``(spk_seq, mem_seq)``, each ``[T, batch, ...]``, of a LIF layer started at U = 0.

    ``input`` is ``[T, batch, ...]``; or a tuple of the T steps ``[batch, ...]`` (each gets
    its own gradient, so they need not be stacked first); or ``[batch, ...]`` used at each of
    ``num_steps`` steps. ``membrane_returned=False`` (``LIF.spikes``) lets the backward pass
    write over mem_seq. The caller (``LIF``) has checked every argument.
    """
    steps = input if isinstance(input, tuple) else (input,)  # the Function's tensor inputs
    return _LIFSequence.apply(beta, threshold, reset, derivative, num_steps, membrane_returned,
                              isinstance(input, tuple), *steps)


class _LIFSequence(torch.autograd.Function):
    """The loops of the module docstring, forward and backward."""

    @staticmethod
    def forward(ctx, beta, threshold, reset_mode, derivative, num_steps, membrane_returned,
                one_by_one, *inputs):
        constant = num_steps is not None  # the same input at every step
        input = inputs if one_by_one else inputs[0]  # either way input[t] is step t
        if constant or one_by_one:  # every step in the layout of one (e.g. channels-last)
            num_steps = len(inputs) if one_by_one else num_steps
            step = torch.empty_like(inputs[0], device="meta")  # one step, only for its strides
            mem_seq = _empty(inputs[0], (num_steps, *step.shape), (step.numel(), *step.stride()))
        else:
            num_steps = input.shape[0]
            mem_seq = _empty_like(input)
        spk_seq = _empty_like(mem_seq)
        mem = torch.zeros_like(mem_seq[0])  # U[-1]
        reset = (mem > threshold).to(mem.dtype)  # reset[0] = H(U[-1] - theta)
        # A few in-place ops per step, written straight into the outputs. They round exactly
        # like the step API (beta * U, then + I, then - reset * theta), so the values are equal.
        for t in range(num_steps):
            current = input if constant else input[t]
            new = mem_seq[t]
            if reset_mode == "zero":
                torch.mul(beta * (1 - reset), mem, out=new).add_(current)
            else:
                torch.mul(beta, mem, out=new).add_(current)
                if reset_mode == "subtract":
                    new.addcmul_(reset, threshold, value=-1)  # - reset[t] * theta
            torch.gt(new, threshold, out=spk_seq[t])  # S[t] = H(U[t] - theta)
            mem, reset = new, spk_seq[t]  # S[t] is reset[t + 1]
        ctx.save_for_backward(mem_seq, spk_seq, beta, threshold)
        ctx.reset_mode, ctx.derivative, ctx.constant = reset_mode, derivative, constant
        ctx.membrane_returned, ctx.one_by_one = membrane_returned, one_by_one
        ctx.set_materialize_grads(False)
        return spk_seq, mem_seq

    @staticmethod
    def backward(ctx, grad_spk, grad_mem):
        mem_seq, spk_seq, beta, threshold = ctx.saved_tensors
        need_beta, need_threshold = ctx.needs_input_grad[:2]
        inputs_need = ctx.needs_input_grad[7:]  # one per tensor input, after forward's 7 others
        need_input = any(inputs_need)
        mode, derivative = ctx.reset_mode, ctx.derivative
        no_inputs = (None,) * len(inputs_need)
        if grad_spk is None and grad_mem is None:
            return (None,) * 7 + no_inputs

        num_steps, batch = mem_seq.shape[:2]
        keep_every_lam = need_input and not ctx.constant  # then lam is dL/dI, every step
        if keep_every_lam and not ctx.membrane_returned:
            # Nobody else holds mem_seq (LIF.spikes), and U[t] is read for the last time just
            # before lam[t] is written: lam[t] can take its place. (A second backward through
            # this graph, retain_graph=True, is then refused by autograd's in-place check.)
            lam_seq = mem_seq
        elif keep_every_lam:
            lam_seq = _empty_like(mem_seq)
        else:
            lam_seq = mem_seq.new_empty((2, *mem_seq.shape[1:]))  # just lam[t] and lam[t+1]
        grad_input = torch.zeros_like(mem_seq[0]) if need_input and ctx.constant else None
        grad_beta = torch.zeros_like(beta) if need_beta else None
        grad_threshold = torch.zeros_like(threshold) if need_threshold else None

        # The work goes in blocks of about BLOCK_ELEMENTS numbers, so that the temporaries
        # stay in the CPU's cache: a big layer in slices of its batch, one step at a time; a
        # small layer (a few neurons) with its whole batch over many steps at once.
        per_sample = mem_seq[0, 0].numel()
        rows = max(1, min(batch, BLOCK_ELEMENTS // per_sample))
        steps = max(1, min(num_steps, BLOCK_ELEMENTS // (rows * per_sample)))
        for first_row in range(0, batch, rows):
            b = slice(first_row, first_row + rows)  # these samples of the batch
            for end in range(num_steps, 0, -steps):  # blocks of steps, last block first
                start = max(0, end - steps)
                block = (slice(start, end), b)  # these steps of these samples
                # g[t] = dL/dmem_seq[t] + dL/dspk_seq[t] * surrogate'(U[t] - theta), t in block
                if grad_spk is None:
                    g = grad_mem[block]
                else:
                    spike_term = grad_spk[block] * derivative(mem_seq[block] - threshold)
                    g = spike_term if grad_mem is None else spike_term + grad_mem[block]
                    if need_threshold:
                        grad_threshold -= spike_term.sum_to_size(threshold.shape)
                # a[t+1] = beta * (1 - reset[t+1]), where reset[t+1] = S[t]
                decay = beta * (1 - spk_seq[block]) if mode == "zero" else None

                for t in range(end - 1, start - 1, -1):
                    lam = (lam_seq[t] if keep_every_lam else lam_seq[t % 2])[b]
                    if t + 1 == num_steps:  # lam[T-1] = g[T-1]
                        lam.copy_(g[t - start])
                    else:  # lam[t] = g[t] + a[t+1] * lam[t+1]
                        lam_next = (lam_seq[t + 1] if keep_every_lam else lam_seq[(t + 1) % 2])[b]
                        torch.addcmul(g[t - start], beta if decay is None else decay[t - start],
                                      lam_next, out=lam)

                    if grad_input is not None:
                        grad_input[b] += lam
                    if not (need_beta or need_threshold):
                        continue
                    if t > 0:
                        mem_prev, reset = mem_seq[t - 1, b], spk_seq[t - 1, b]  # U[t-1], reset[t]
                    else:
                        mem_prev = torch.zeros_like(lam)
                        reset = (mem_prev > threshold).to(lam.dtype)
                    if need_beta:
                        # dU[t]/dbeta
                        drive = mem_prev * (1 - reset) if mode == "zero" else mem_prev
                        grad_beta += (lam * drive).sum_to_size(beta.shape)
                    if need_threshold and mode == "subtract":
                        grad_threshold -= (lam * reset).sum_to_size(threshold.shape)

        if keep_every_lam:
            grad_input = lam_seq
        grad_inputs = (tuple(lam_seq.unbind(0)) if ctx.one_by_one and keep_every_lam
                       else no_inputs if grad_input is None else (grad_input,))
        return (grad_beta, grad_threshold, None, None, None, None, None, *grad_inputs)


def decay_sequence(input: Tensor, alpha: Tensor) -> Tensor:
    """``I_seq`` ``[T, batch, ...]`` of the leaky sum I[t] = alpha * I[t-1] + X[t], I[-1] = 0.

    The synaptic current of ``snnlab.synaptic.Synaptic`` (lesson 08): linear, with no reset,
    so it can run over all steps before the membrane does. Backward, with g[t] the gradient
    reaching I[t] and lam[t] the total gradient on I[t]:

        lam[T-1] = g[T-1],    lam[t] = g[t] + alpha * lam[t+1]
        dL/dX[t] = lam[t],    dL/dalpha = sum_t lam[t] * I[t-1]

    ``input`` is ``X`` ``[T, batch, ...]``; alpha in [0, 1] broadcasts to one step. The caller
    has checked both.
    """
    return _DecaySequence.apply(alpha, input)


class _DecaySequence(torch.autograd.Function):
    """The loops of ``decay_sequence``'s docstring, forward and backward."""

    @staticmethod
    def forward(ctx, alpha, input):
        out = _empty_like(input)
        previous = torch.zeros_like(input[0])  # I[-1]
        for t in range(input.shape[0]):  # rounds like the step API: alpha * I, then + X
            torch.mul(alpha, previous, out=out[t]).add_(input[t])
            previous = out[t]
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        alpha, out = ctx.saved_tensors
        need_alpha, need_input = ctx.needs_input_grad
        lam_seq = torch.empty_like(grad_out)
        lam = None
        grad_alpha = torch.zeros_like(alpha) if need_alpha else None
        for t in range(grad_out.shape[0] - 1, -1, -1):
            lam = grad_out[t] if lam is None else torch.addcmul(grad_out[t], alpha, lam)
            lam_seq[t] = lam
            if need_alpha and t > 0:
                grad_alpha += (lam * out[t - 1]).sum_to_size(alpha.shape)
        return grad_alpha, lam_seq if need_input else None


def alif_sequence(input: Tensor, beta: Tensor, threshold: Tensor, rho: Tensor, b: Tensor,
                  reset: str, derivative: Callable[[Tensor], Tensor]
                  ) -> tuple[Tensor, Tensor, Tensor]:
    """``(spk_seq, mem_seq, a_seq)`` of ``snnlab.adaptive.ALIF`` from rest (lesson 08).

    Forward: the equations of ``ALIF``. Backward, with v[t] = U[t] - theta[t], theta[t] =
    theta0 + b a[t], R[t] = S[t] (the reset it causes, no gradient) and the gradients
    reaching the outputs at step t written dS[t], dU[t], dA[t]: the total gradients on U[t]
    and a[t], gU[t] and ga[t], run backwards in time from gU[T] = ga[T] = 0:

        ds[t] = (dS[t] + ga[t+1]) * surrogate'(v[t])     (S[t] feeds a[t+1] with its gradient)
        gU[t] = dU[t] + ds[t] + c[t+1] * gU[t+1]          c[t+1] = beta (beta * (1 - R[t]) "zero")
        ga[t] = dA[t] - b * ds[t] + rho * ga[t+1] - b * R[t] * gU[t+1]   (last term "subtract")

        dL/dI[t] = gU[t],   dL/dbeta = sum_t gU[t] * U[t-1]   (* (1 - R[t-1]) for "zero")
        dL/dtheta0 = -sum_t ds[t]  - sum_t R[t] * gU[t+1]    (last sum "subtract")

    The caller (``ALIF``) has checked every argument; rho and b get no gradient.
    """
    return _ALIFSequence.apply(beta, threshold, rho, b, reset, derivative, input)


class _ALIFSequence(torch.autograd.Function):
    """The loops of ``alif_sequence``'s docstring, forward and backward."""

    @staticmethod
    def forward(ctx, beta, threshold, rho, b, reset_mode, derivative, input):
        mem_seq, spk_seq, a_seq = _empty_like(input), _empty_like(input), _empty_like(input)
        mem = torch.zeros_like(input[0])  # U[-1]
        spk = torch.zeros_like(mem)  # S[-1]
        a = torch.zeros_like(mem)  # a[-1]
        threshold_prev = threshold + b * a  # theta[-1]
        # Each line rounds like the step API of ALIF, so the values are equal.
        for t in range(input.shape[0]):
            a = torch.add(rho * a, spk, out=a_seq[t])  # a[t] = rho a[t-1] + S[t-1]
            threshold_now = threshold + b * a
            if reset_mode == "subtract":
                new = beta * mem + input[t] - spk * threshold_prev
            elif reset_mode == "zero":
                new = beta * (1 - spk) * mem + input[t]
            else:
                new = beta * mem + input[t]
            mem = mem_seq[t].copy_(new)
            spk = torch.gt(mem - threshold_now, 0, out=spk_seq[t])  # S[t] = H(U[t] - theta[t])
            threshold_prev = threshold_now
        ctx.save_for_backward(mem_seq, spk_seq, a_seq, beta, threshold, rho, b)
        ctx.reset_mode, ctx.derivative = reset_mode, derivative
        ctx.set_materialize_grads(False)
        return spk_seq, mem_seq, a_seq

    @staticmethod
    def backward(ctx, grad_spk, grad_mem, grad_a):
        mem_seq, spk_seq, a_seq, beta, threshold, rho, b = ctx.saved_tensors
        need_beta, need_threshold = ctx.needs_input_grad[:2]
        mode, derivative = ctx.reset_mode, ctx.derivative
        num_steps = mem_seq.shape[0]
        grad_input = torch.empty_like(mem_seq)
        grad_beta = torch.zeros_like(beta) if need_beta else None
        grad_threshold = torch.zeros_like(threshold) if need_threshold else None
        g_mem = g_a = None  # gU[t+1], ga[t+1]
        for t in range(num_steps - 1, -1, -1):
            spk, mem, a = spk_seq[t], mem_seq[t], a_seq[t]
            through_spike = 0 if grad_spk is None else grad_spk[t]  # dS[t] + ga[t+1]
            if g_a is not None:
                through_spike = through_spike + g_a
            ds = through_spike * derivative(mem - (threshold + b * a))
            new_g_mem = ds if grad_mem is None else ds + grad_mem[t]
            new_g_a = -b * ds if grad_a is None else grad_a[t] - b * ds
            if g_mem is not None:  # the step t+1 depends on step t
                decay = beta * (1 - spk) if mode == "zero" else beta
                new_g_mem = new_g_mem + decay * g_mem
                new_g_a = new_g_a + rho * g_a
                if mode == "subtract":
                    new_g_a = new_g_a - b * spk * g_mem
                    if need_threshold:
                        grad_threshold -= (spk * g_mem).sum_to_size(threshold.shape)
            if need_threshold:
                grad_threshold -= ds.sum_to_size(threshold.shape)
            if need_beta and t > 0:
                drive = mem_seq[t - 1] * (1 - spk_seq[t - 1]) if mode == "zero" else mem_seq[t - 1]
                grad_beta += (new_g_mem * drive).sum_to_size(beta.shape)
            g_mem, g_a = new_g_mem, new_g_a
            grad_input[t] = g_mem
        return grad_beta, grad_threshold, None, None, None, None, grad_input


# ------------------------------------------------------------------------------------------
# Reused memory for the whole-sequence tensors (CPU only)
#
# On Linux a tensor of many MB comes straight from the kernel and goes straight back when it
# is freed, so each new one arrives as fresh pages that the kernel zeroes one 4 kB page at a
# time (about 9 ms for 51 MB on the course's CPU, as long as the LIF loop itself). So the
# whole-sequence tensors are made on ``bytearray`` buffers kept here. A tensor made with
# ``torch.frombuffer`` holds a reference to its buffer for as long as its memory lives
# (views, autograd's saved tensors and ``.grad`` included), so a buffer whose only reference
# is ours is free and can be handed out again: nothing is ever handed out twice while in use.
# ------------------------------------------------------------------------------------------

REUSE_MEMORY: bool = config.env_flag("SNNLAB_REUSE_MEMORY", default=True)
"""The one switch: ``snnlab.bptt.REUSE_MEMORY = False`` (or ``SNNLAB_REUSE_MEMORY=0``, or
``off``, in the environment) makes every tensor a plain ``torch.empty``."""
MAX_CACHED_BYTES = 1 << 30  # at most this much memory is kept, in use or idle
MIN_BYTES = 1 << 20  # smaller tensors come from torch.empty as usual
FORGET_AFTER = 64  # an idle buffer not asked for in this many requests is released

_pool: list[list] = []  # [buffer, number of the request that last took it], oldest first
_requests = 0
_lock = threading.Lock()


def _empty_like(x: Tensor) -> Tensor:
    """Like ``torch.empty_like(x)``: same shape, dtype, device and memory layout."""
    layout = torch.empty_like(x, device="meta")  # the strides empty_like would choose
    return _empty(x, tuple(layout.shape), layout.stride())


def _empty(like: Tensor, shape: tuple[int, ...], strides: tuple[int, ...]) -> Tensor:
    """Like ``like.new_empty_strided(shape, strides)``, on a reused buffer where one is free."""
    nbytes = math.prod(shape) * like.element_size()  # the strides describe a dense layout
    if not REUSE_MEMORY or like.device.type != "cpu" or nbytes < MIN_BYTES:
        return like.new_empty_strided(shape, strides)
    with _lock:
        buffer = _take_buffer(nbytes)
        memory = torch.frombuffer(buffer, dtype=like.dtype).untyped_storage()
    return torch.empty(0, dtype=like.dtype).set_(memory, 0, shape, strides)


def _is_idle(index: int) -> bool:
    return sys.getrefcount(_pool[index][0]) == 2  # our list's reference and getrefcount's


def _take_buffer(nbytes: int) -> bytearray:
    """An idle buffer of ``nbytes`` (a new one if none is), then drop what is not needed."""
    global _requests
    _requests += 1
    found = next((i for i in range(len(_pool))
                  if len(_pool[i][0]) == nbytes and _is_idle(i)), None)
    entry = _pool.pop(found) if found is not None else [bytearray(nbytes), 0]
    entry[1] = _requests
    _pool.append(entry)  # most recently used last
    total = sum(len(buffer) for buffer, _ in _pool)
    i = 0
    while i < len(_pool) - 1:  # oldest first; never the one just taken
        stale = _requests - _pool[i][1] > FORGET_AFTER
        if (total > MAX_CACHED_BYTES or stale) and _is_idle(i):
            total -= len(_pool.pop(i)[0])
        else:
            i += 1
    return entry[0]


def cached_bytes() -> int:
    """The memory this module holds, in use or idle (for tests and the curious)."""
    with _lock:
        return sum(len(buffer) for buffer, _ in _pool)
