"""Unsupervised learning by competition: Diehl and Cook's (2015) winner-take-all network. Lesson 09.

Diehl and Cook, "Unsupervised learning of digit recognition using spike-timing-dependent
plasticity" (Frontiers in Computational Neuroscience 9:99), learn MNIST without a single
label during training. Each image becomes Poisson spike trains (``encoding.rate``) that feed a
layer of excitatory neurons through plastic weights W [num_inputs, num_neurons]. The
neurons compete: the first to fire silences the others (lateral inhibition), so only the
winner learns, and STDP (``snnlab.stdp``) pulls its weights towards the image it won. Each
neuron ends up holding a prototype, the weights look like digits. Labels come only at the
end, to name the neurons: each neuron votes for the digit it fired most for.

One step t (1 ms in the paper) for a batch of images, the equations ``present`` runs:

    I[t]     = input_scale * S_in[t] @ W                       input current   [batch, n]
    v[t]     = beta * (1 - S[t-1]) * v[t-1] + I[t]              leak, reset to 0 after a spike
               - inhibition * (N[t-1] - S[t-1])                 inhibition from the others
    or, with hard_wta=True (a hard winner-take-all: a spike resets the WHOLE layer),
    v[t]     = beta * (1 - N[t-1]) * v[t-1] + I[t]
    over[t]  = v[t] - (threshold + theta)                       how far above its threshold
    S[t]     = 1 for the neuron with the largest over[t] > 0, else 0   (one winner per step)
    theta    = theta_decay * theta + theta_plus * sum over the batch of S[t]
    W        = stdp_step(W, S_in[t], S[t], ...)                 (learn=True only)

with update="end" the last two lines wait for the end of the presentation (T steps):

    theta    = theta_decay^T * theta + theta_plus * sum over the batch and the steps of S[t]
    W        = bound(W + A_plus * sum_t P[t] - A_minus * sum_t D[t])    (P, D: ``snnlab.stdp``)

with N[t-1] the number of spikes of the layer (of that image) at t-1, v[-1] = 0, S[-1] = 0.
Every image starts from rest (v = 0, traces 0): this replaces the paper's 150 ms pause.
After each batch the weights are normalised: every neuron's incoming weights sum to
``weight_sum`` (78 in the paper, 0.1 per input on average), so no neuron wins by growing
all its weights.

Simplifications, against the paper (say so in the lesson): current-based instead of
conductance-based synapses (v in mV above rest, input_scale converts a weight of 1 into mV);
the inhibitory layer is folded into the excitatory one: at most one neuron fires per image
and step, and its spike lowers every other neuron by ``inhibition`` on the next step (the
paper's inhibition is strong enough that this is what mostly happens), or, with
``hard_wta``, sets every neuron of the layer back to rest: each spike is then a fresh race,
won by the first neuron that the input since the previous spike carries over its threshold
(a decision made on all the evidence gathered since then; lesson 09's experiment uses it,
and it bought 25 points of accuracy in ``bench/stdp_feasibility.md``); no refractory period
beyond the reset; pair-based STDP from ``snnlab.stdp`` (adding traces) instead of the
paper's nearest-spike rule; theta is the ADAPTIVE threshold of homeostasis, shared by the
whole batch, not reset between images: a neuron that fires a lot gets harder to fire, so
every neuron gets its share of the images.

A batch of B images is shown at once, with one weight. The STDP changes of the B images
add (see ``snnlab.stdp``), as would B images shown one after another if the weights did not
move in between; they do move, a winner adapts to one image before the next, so a batch is
an approximation of the paper's one-image-at-a-time learning, good when each batch changes
the weights little. ``bench/stdp_feasibility.py`` measures what it costs in accuracy.
With ``update="end"`` the batch is mini-batch learning outright: the weights and theta stay
fixed while the batch is shown and change once, by the sum of its changes. With the hard
winner-take-all, batches of 20 and 100 learned equally well (``bench/stdp_feasibility.md``).

    net = Competitive(num_neurons=100, hard_wta=True)
    for images, _ in loader:                          # no labels while learning
        net.run(images.flatten(1), learn=True)
    counts = net.run(train_images, learn=False)       # [N, num_neurons] spike counts
    assignments = assign_labels(counts, train_labels)
    predictions = classify(net.run(test_images, learn=False), assignments)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from snnlab import checks, encoding, stdp

__all__ = ["Competitive", "UPDATES", "normalize", "wta_step", "assign_labels", "classify"]

UPDATES = ("step", "end")


def normalize(weight: Tensor, total: float) -> Tensor:
    """Scale each column of ``weight`` [num_inputs, num_neurons] so that it sums to ``total``:
    every neuron's incoming weights add up to the same number. Lesson 09.

        W[:, j] = W[:, j] * total / sum_i W[i, j]

    A column that sums to 0 stays 0 (there is nothing to scale). Returns a new tensor.
    """
    checks.finite("weight", checks.tensor("weight", weight))
    if weight.dim() != 2 or (weight < 0).any():
        raise ValueError(f"weight must be [num_inputs, num_neurons] with no negative value, "
                         f"got shape {tuple(weight.shape)}"
                         + (f", min {weight.min().item():g}" if weight.numel() else ""))
    total = checks.positive_number("total", total)
    sums = weight.sum(dim=0, keepdim=True)
    return weight * torch.where(sums > 0, total / sums.clamp(min=1e-30), 0.0)


def wta_step(v: Tensor, spk_prev: Tensor, current: Tensor, threshold: Tensor, beta: float,
             inhibition: float, hard: bool = False) -> tuple[Tensor, Tensor]:
    """One step of the winner-take-all layer, for a batch: ``(spk, v)``. Lesson 09.

        others = spk_prev.sum(-1, keepdim=True) - spk_prev          # N[t-1] - S[t-1]
        v = beta * (1 - spk_prev) * v + current - inhibition * others     (hard=False)
        v = beta * (1 - spk_prev.sum(-1, keepdim=True)) * v + current     (hard=True)
        over = v - threshold
        spk = 1 where over > 0 and over is the sample's largest, else 0

    Args:
        v, spk_prev, current: ``[batch, num_neurons]`` membrane and spikes after the previous
            step, and this step's input current.
        threshold: ``[num_neurons]`` or 0-dim tensor, threshold + theta.
        beta: leak per step in [0, 1]. inhibition: >= 0 (not used when ``hard``).
        hard: a spike resets every neuron of its sample to 0 (a hard winner-take-all).

    Returns:
        this step's spikes (at most one per sample) and membrane.
    """
    checks.finite("v", checks.tensor("v", v))
    if v.dim() != 2:
        raise ValueError(f"v must be [batch, num_neurons], got shape {tuple(v.shape)}")
    for name, value in (("spk_prev", spk_prev), ("current", current)):
        checks.neuron_state(name, value, v)
    checks.neuron_input("v", v, {"threshold": checks.tensor("threshold", threshold)})
    beta = checks.number("beta", beta, "in [0, 1]", lambda b: 0 <= b <= 1)
    inhibition = checks.number("inhibition", inhibition, "finite and >= 0",
                               lambda x: 0 <= x < math.inf)
    return _wta_step(v, spk_prev, current, threshold, beta, inhibition,
                     checks.boolean("hard", hard))


def _wta_step(v: Tensor, spk_prev: Tensor, current: Tensor, threshold: Tensor, beta: float,
              inhibition: float, hard: bool = False) -> tuple[Tensor, Tensor]:
    fired = spk_prev.sum(-1, keepdim=True)  # N[t-1]: 0 or 1, at most one winner a step
    if hard:
        v = beta * (1 - fired) * v + current
    else:
        v = beta * (1 - spk_prev) * v + current - inhibition * (fired - spk_prev)
    over = v - threshold
    best, winner = over.max(dim=-1, keepdim=True)  # [batch, 1]
    spk = torch.zeros_like(v).scatter_(-1, winner, (best > 0).to(v.dtype))
    return spk, v


class Competitive:
    """Diehl and Cook's network: Poisson input, a winner-take-all layer, STDP, an adaptive
    threshold and weight normalisation. Lesson 09.

    The state that learning changes: ``weight`` [num_inputs, num_neurons] and ``theta``
    [num_neurons]. Everything else is a setting (attributes of the same names).

    Args:
        num_inputs: pixels per image (784 for MNIST). num_neurons: excitatory neurons.
        num_steps: steps per image (the paper: 350 of 1 ms). gain: ``encoding.rate`` gain,
            P(input spike per step) = gain * pixel (the paper: 63.75 Hz * 1 ms = 0.06375).
        tau_mem: membrane time constant in steps (beta = exp(-1/tau_mem)); the paper: 100 ms.
        threshold: firing threshold above rest, without theta (mV; the paper: 13).
        input_scale: mV added per input spike through a weight of 1.
        inhibition: mV taken from every other neuron by a spike, >= 0.
        hard_wta: instead of ``inhibition``, a spike resets every neuron to rest (the layer
            starts a new race after every spike).
        theta_plus: threshold raise per spike (the paper: 0.05 mV). tau_theta: its decay
            time constant in steps (the paper: 1e7 ms).
        A_plus, A_minus, tau_plus, tau_minus, w_max, bounds: the STDP rule (``snnlab.stdp``);
            the paper learns 0.01 on post spikes and 0.0001 on pre spikes, traces of 20 ms.
        update: when learning changes the weights and theta: "step", at every step (the
            paper: a winner has already moved towards its image while it is still shown), or
            "end", once after the presentation, by the changes summed over its steps (every
            image of a batch meets the same weights and theta from its first step to its
            last, as in mini-batch k-means).
        weight_sum: what each neuron's incoming weights sum to (the paper: 78).
        min_spikes, max_boosts, boost: an image that drew fewer than ``min_spikes`` spikes
            from the whole layer is shown again with ``gain + boost`` (the paper: 5 spikes,
            +32 Hz), at most ``max_boosts`` times.
        seed: seeds the initial weights, uniform in [0, 0.3] then normalised.

    Normalisation can lift a weight above w_max (a neuron whose weights gather on fewer than
    weight_sum / w_max inputs). Hard bounds clamp it back at the next learning step; with
    soft bounds (w_max - w) turns negative there and potentiation becomes depression: keep
    the default hard bounds, or a weight_sum small enough, with soft ones.
    """

    def __init__(self, num_inputs: int = 784, num_neurons: int = 100, *, num_steps: int = 350,
                 gain: float = 0.06375, tau_mem: float = 100.0, threshold: float = 13.0,
                 input_scale: float = 0.65, inhibition: float = 12.0, hard_wta: bool = False,
                 theta_plus: float = 0.05, tau_theta: float = 1e7, A_plus: float = 0.01,
                 A_minus: float = 0.0001, tau_plus: float = 20.0, tau_minus: float = 20.0,
                 w_max: float = 1.0, bounds: str = "hard", update: str = "step",
                 weight_sum: float = 78.0,
                 min_spikes: int = 5, max_boosts: int = 4, boost: float = 0.032,
                 seed: int = 0) -> None:
        self.num_inputs = checks.positive_int("num_inputs", num_inputs)
        self.num_neurons = checks.positive_int("num_neurons", num_neurons)
        self.num_steps = checks.positive_int("num_steps", num_steps)
        unit = "in [0, 1]"
        self.gain = checks.number("gain", gain, unit, lambda g: 0 <= g <= 1)
        self.boost = checks.number("boost", boost, unit, lambda g: 0 <= g <= 1)
        self.tau_mem = checks.positive_number("tau_mem", tau_mem)
        self.threshold = checks.positive_number("threshold", threshold)
        self.input_scale = checks.positive_number("input_scale", input_scale)
        nonneg = "finite and >= 0"
        self.inhibition = checks.number("inhibition", inhibition, nonneg,
                                        lambda x: 0 <= x < math.inf)
        self.hard_wta = checks.boolean("hard_wta", hard_wta)
        self.theta_plus = checks.number("theta_plus", theta_plus, nonneg,
                                        lambda x: 0 <= x < math.inf)
        self.tau_theta = checks.positive_number("tau_theta", tau_theta)
        self.A_plus, self.A_minus, self.tau_plus, self.tau_minus = stdp._rule(
            A_plus, A_minus, tau_plus, tau_minus)
        self.w_max = checks.positive_number("w_max", w_max)
        self.bounds = checks.choice("bounds", bounds, stdp.BOUNDS)
        self.update = checks.choice("update", update, UPDATES)
        self.weight_sum = checks.positive_number("weight_sum", weight_sum)
        self.min_spikes = checks.integer("min_spikes", min_spikes)
        self.max_boosts = checks.integer("max_boosts", max_boosts)
        generator = torch.Generator().manual_seed(checks.integer("seed", seed))
        weight = 0.3 * torch.rand(self.num_inputs, self.num_neurons, generator=generator)
        self.weight = normalize(weight, self.weight_sum)
        self.theta = torch.zeros(self.num_neurons)

    def present(self, input_seq: Tensor, learn: bool) -> Tensor:
        """Show input spikes ``[num_steps, batch, num_inputs]`` once, from rest; with
        ``learn``, STDP and theta change at every step (``update="step"``) or once at the end
        (``update="end"``), and the weights are normalised at the end. Returns the spike
        counts ``[batch, num_neurons]``. Lesson 09."""
        checks.boolean("learn", learn)
        checks.finite("input_seq", checks.tensor("input_seq", input_seq))
        if input_seq.dim() != 3 or input_seq.shape[-1] != self.num_inputs or 0 in input_seq.shape:
            raise ValueError(f"input_seq must be [num_steps, batch, num_inputs = "
                             f"{self.num_inputs}], got shape {tuple(input_seq.shape)}")
        input_seq = input_seq.to(self.weight.dtype)
        beta, theta_decay = math.exp(-1 / self.tau_mem), math.exp(-1 / self.tau_theta)
        d_plus, d_minus = math.exp(-1 / self.tau_plus), math.exp(-1 / self.tau_minus)
        batch = input_seq.shape[1]
        v = spk = torch.zeros(batch, self.num_neurons, dtype=self.weight.dtype)
        counts = torch.zeros_like(v)
        traces = stdp.STDPState(torch.zeros_like(input_seq[0]), torch.zeros_like(v))
        weight, theta = self.weight, self.theta
        every_step = self.update == "step"
        potentiation = depression = torch.zeros(())  # "end": sum over the steps of P and D
        for t in range(len(input_seq)):
            current = self.input_scale * (input_seq[t] @ weight)
            spk, v = _wta_step(v, spk, current, self.threshold + theta, beta, self.inhibition,
                               self.hard_wta)
            counts += spk
            if learn and every_step:
                theta = theta_decay * theta + self.theta_plus * spk.sum(0)
                weight, traces = stdp._step(weight, input_seq[t], spk, traces, self.A_plus,
                                            self.A_minus, d_plus, d_minus, self.w_max,
                                            self.bounds)
            elif learn:
                p, d, traces = stdp._pairs(input_seq[t], spk, traces, d_plus, d_minus,
                                           self.A_minus > 0)
                potentiation, depression = potentiation + p, depression + d
        if learn and not every_step:
            theta = theta_decay ** len(input_seq) * theta + self.theta_plus * counts.sum(0)
            weight = stdp._apply(weight, potentiation, depression, self.A_plus, self.A_minus,
                                 self.w_max, self.bounds)
        if learn:
            self.weight, self.theta = normalize(weight, self.weight_sum), theta
        return counts

    def run(self, images: Tensor, learn: bool, generator: torch.Generator | None = None
            ) -> Tensor:
        """Encode ``images`` [batch, num_inputs] (values in [0, 1]) as Poisson spikes and
        ``present`` them; images that drew fewer than ``min_spikes`` spikes are shown again
        with a higher gain, up to ``max_boosts`` times (their last counts are kept; with
        ``learn`` they learn again each time, as in the paper).
        Returns the spike counts ``[batch, num_neurons]``. Lesson 09.

        ``generator``: None draws from torch's global generator, as ``encoding.rate`` does."""
        checks.unit_range("images", checks.tensor("images", images))
        if images.dim() != 2 or images.shape[1] != self.num_inputs or len(images) == 0:
            raise ValueError(f"images must be [batch, num_inputs = {self.num_inputs}] (flatten "
                             f"them: images.flatten(1)), got shape {tuple(images.shape)}")
        if generator is not None:  # encoding.rate draws from the global generator
            state = torch.get_rng_state()
            torch.manual_seed(int(torch.randint(2**62, (), generator=generator)))
        try:
            counts = self.present(encoding.rate(images, self.num_steps, self.gain), learn)
            gain = self.gain
            for _ in range(self.max_boosts):
                again = (counts.sum(1) < self.min_spikes).nonzero().flatten()
                if len(again) == 0:
                    break
                gain = min(1.0, gain + self.boost)
                spikes = encoding.rate(images[again], self.num_steps, gain)
                counts[again] = self.present(spikes, learn)
        finally:
            if generator is not None:
                torch.set_rng_state(state)
        return counts


def assign_labels(counts: Tensor, labels: Tensor, num_classes: int = 10) -> Tensor:
    """Name each neuron: the class for which it fired most on average. Lesson 09.

        rate[c, j] = mean over the images of class c of counts[:, j]
        assignment[j] = argmax over c of rate[c, j]      (the lowest c on a tie)

    A class with no image gets rate 0. A neuron that never fired gets class 0.

    Args:
        counts: ``[num_images, num_neurons]`` spike counts (``Competitive.run``).
        labels: ``[num_images]`` ints in [0, num_classes).

    Returns:
        ``[num_neurons]`` int64 class per neuron.
    """
    counts, labels = _counts_and_labels(counts, labels, num_classes)
    rates = _class_means(counts.T, labels, num_classes)  # [num_neurons, num_classes]
    return rates.argmax(dim=1)


def classify(counts: Tensor, assignments: Tensor, num_classes: int = 10) -> Tensor:
    """Predict a class per image by the votes of the neurons. Lesson 09.

        vote[i, c] = mean over the neurons j assigned to c of counts[i, j]
        prediction[i] = argmax over c of vote[i, c]      (the lowest c on a tie)

    A class no neuron is assigned to gets vote 0.

    Args:
        counts: ``[num_images, num_neurons]`` spike counts.
        assignments: ``[num_neurons]`` classes from ``assign_labels``.

    Returns:
        ``[num_images]`` int64 predicted classes.
    """
    num_classes = checks.positive_int("num_classes", num_classes)
    checks.finite("counts", checks.tensor("counts", counts))
    if counts.dim() != 2:
        raise ValueError(f"counts must be [num_images, num_neurons], got shape "
                         f"{tuple(counts.shape)}")
    _classes("assignments", assignments, num_classes, counts.shape[1], "num_neurons")
    return _class_means(counts, assignments, num_classes).argmax(dim=1)


def _class_means(values: Tensor, classes: Tensor, num_classes: int) -> Tensor:
    """[rows, k] values and [k] classes -> [rows, num_classes]: each row's mean over the
    columns of each class (0 for a class with no column)."""
    one_hot = torch.nn.functional.one_hot(classes.long(), num_classes).to(values.dtype)  # [k, C]
    return (values @ one_hot) / one_hot.sum(0).clamp(min=1)


def _counts_and_labels(counts: object, labels: object, num_classes: int) -> tuple[Tensor, Tensor]:
    num_classes = checks.positive_int("num_classes", num_classes)
    checks.finite("counts", checks.tensor("counts", counts))
    if counts.dim() != 2 or len(counts) == 0:
        raise ValueError(f"counts must be [num_images >= 1, num_neurons], got shape "
                         f"{tuple(counts.shape)}")
    _classes("labels", labels, num_classes, len(counts), "num_images")
    return counts, labels


def _classes(name: str, value: object, num_classes: int, size: int, what: str) -> None:
    checks.tensor(name, value, floating=False)
    if value.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8) \
            or value.shape != (size,):
        raise ValueError(f"{name} must be [{what} = {size}] integer classes, got shape "
                         f"{tuple(value.shape)} of {value.dtype}")
    if len(value) and (value.min() < 0 or value.max() >= num_classes):
        raise ValueError(f"{name} must lie in [0, {num_classes}), found "
                         f"[{value.min().item()}, {value.max().item()}]")
