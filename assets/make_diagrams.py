"""Draw the course's schematic diagrams with matplotlib and save them next to this script.

    python assets/make_diagrams.py

writes ``rc_circuit.png`` (the membrane as a resistor and capacitor), ``lif_neuron.png``
(spikes in, leaky integration, threshold, spikes out), ``network_784_1000_10.png`` (the
feed-forward network of lessons 02 and 04) and ``neuron_models.png`` (Hodgkin-Huxley, LIF and
the artificial neuron answering the same current step, lesson 02) and ``bptt_unrolled.png``
(one LIF neuron over three steps, every path of the gradient, lesson 03). Every line is drawn here;
nothing is copied.

    python assets/make_diagrams.py --lang zh_CN

draws the same diagrams with Chinese labels (``ZH`` below; the terms of GLOSSARY.md) into
``assets/zh/``, which the Chinese editions of the lessons show.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).resolve().parent
INK = "#222222"
BLUE = "#0072B2"
ORANGE = "#D55E00"
GREEN = "#009E73"
LINE = {"color": INK, "lw": 2, "solid_capstyle": "round"}
LANGUAGES = ("en", "zh_CN")
OUT = {"en": HERE, "zh_CN": HERE / "zh"}  # where each language's diagrams go
language = "en"  # the labels' language: set by --lang

# The labels in Chinese (symbols, formulas and names such as Hodgkin-Huxley stay as they are)
ZH = {
    "input\ncurrent": "输入\n电流",
    "membrane\n(stores charge)": "膜\n（储存电荷）",
    "leak\n(ion channels)": "泄漏\n（离子通道）",
    "input spikes": "输入脉冲",
    "membrane U": "膜电位 U",
    "leaky integrate, fire, reset": "泄漏、积分、发放、复位",
    "output spikes": "输出脉冲",
    "input\n784 pixels,\nspike-coded": "输入层\n784 个像素，\n编码为脉冲",
    "hidden\n1000 LIF neurons": "隐藏层\n1000 个 LIF 神经元",
    "output\n10 LIF neurons\n(one per digit)": "输出层\n10 个 LIF 神经元\n（每个数字一个）",
    "every time step: spikes in → weighted sums → LIF → spikes out":
        "每个时间步：输入脉冲 → 加权求和 → LIF → 输出脉冲",
    "input I": "输入 I",
    "membrane U (mV)": "膜电位 U (mV)",
    "output y": "输出 y",
    "time (ms)": "时间 (ms)",
    "4 coupled equations: ion channels\nshape every spike":
        "4 个耦合方程：离子通道\n决定每个脉冲的形状",
    "leaky integrate-and-fire": "泄漏积分发放（LIF）",
    "1 equation + threshold + reset:\nspike times only":
        "1 个方程 + 阈值 + 复位：\n只保留脉冲时刻",
    "artificial neuron (perceptron, ReLU)": "人工神经元（感知机，ReLU）",
    "y = f(sum of w x): no time,\nno memory, one number out":
        "y = f(Σ w x)：没有时间，\n没有记忆，输出一个数",
    "\u2190 more biological detail, more cost per neuron"
    "          cheaper, trains at scale, but no time \u2192":
        "\u2190 生物细节更多，每个神经元的计算代价更高"
        "          更省算力、可大规模训练，但没有时间 \u2192",
    "input\nweight": "输入\n权重",
    "reset: −θ·S[t−1]": "复位：−θ·S[t−1]",
    "forward:  I[t] = w·x[t],   U[t] = β·U[t−1] + I[t] − θ·S[t−1],   S[t] = H(U[t] − θ)":
        "前向：  I[t] = w·x[t]，  U[t] = β·U[t−1] + I[t] − θ·S[t−1]，  S[t] = H(U[t] − θ)",
    "backward:  dI[t]/dw = x[t],   g[t] = σ'(U[t] − θ) (the surrogate, green),":
        "反向：  dI[t]/dw = x[t]，  g[t] = σ'(U[t] − θ)（替代梯度，绿色），",
    "dU[t]/dU[t−1] = β (leak, blue)  −  θ·g[t−1] (reset, orange; 0 when the reset is detached)":
        "dU[t]/dU[t−1] = β（泄漏，蓝色） −  θ·g[t−1]（复位，橙色；复位被 detach 时为 0）",
}


def _(text: str) -> str:
    """``text`` in the diagrams' language."""
    return ZH[text] if language == "zh_CN" else text


def _arrow(ax, start, end, color=INK, lw=1.8, style="-|>", scale=14):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=scale,
                                 color=color, lw=lw))


def _canvas(width: float, height: float, xlim, ylim):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def _save(fig, name: str) -> Path:
    path = OUT[language] / name
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.15, facecolor="white")
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------- RC circuit

def rc_circuit() -> Path:
    """A current source I(t) feeding a capacitor C and a leak resistor R in parallel."""
    fig, ax = _canvas(7.0, 3.6, (-0.6, 10.2), (-1.1, 4.4))
    top, bottom = 3.0, 0.0
    source_x, cap_x, res_x, out_x = 1.0, 4.0, 6.5, 8.8
    # wires
    ax.plot([source_x, out_x], [top, top], **LINE)
    ax.plot([source_x, out_x], [bottom, bottom], **LINE)
    # current source: a circle with an upward arrow
    ax.plot([source_x, source_x], [bottom, 0.9], **LINE)
    ax.plot([source_x, source_x], [2.1, top], **LINE)
    ax.add_patch(Circle((source_x, 1.5), 0.6, fill=False, ec=INK, lw=2))
    _arrow(ax, (source_x, 1.05), (source_x, 1.95), color=INK, lw=2)
    ax.text(source_x - 0.8, 1.5, "I(t)", ha="right", va="center", fontsize=14, color=BLUE)
    ax.text(source_x - 0.8, 0.95, _("input\ncurrent"), ha="right", va="top", fontsize=9)
    # capacitor: two plates
    ax.plot([cap_x, cap_x], [top, 1.65], **LINE)
    ax.plot([cap_x, cap_x], [1.35, bottom], **LINE)
    ax.plot([cap_x - 0.5, cap_x + 0.5], [1.65, 1.65], color=INK, lw=3)
    ax.plot([cap_x - 0.5, cap_x + 0.5], [1.35, 1.35], color=INK, lw=3)
    ax.text(cap_x + 0.65, 1.5, "C", ha="left", va="center", fontsize=14)
    ax.text(cap_x, 3.35, _("membrane\n(stores charge)"), ha="center", va="bottom", fontsize=9)
    # resistor: a zigzag
    zig_y = np.linspace(2.3, 0.7, 9)
    zig_x = res_x + 0.3 * np.array([0, 1, -1, 1, -1, 1, -1, 1, 0])
    ax.plot([res_x, res_x], [top, 2.3], **LINE)
    ax.plot(zig_x, zig_y, **LINE)
    ax.plot([res_x, res_x], [0.7, bottom], **LINE)
    ax.text(res_x + 0.5, 1.5, "R", ha="left", va="center", fontsize=14)
    ax.text(res_x, 3.35, _("leak\n(ion channels)"), ha="center", va="bottom", fontsize=9)
    # the membrane potential across both
    ax.plot(out_x, top, "o", color=INK, ms=7, mfc="white", mew=2)
    ax.plot(out_x, bottom, "o", color=INK, ms=7, mfc="white", mew=2)
    _arrow(ax, (out_x, bottom + 0.25), (out_x, top - 0.25), color=ORANGE, style="<|-|>")
    ax.text(out_x + 0.3, 1.5, "U(t)", ha="left", va="center", fontsize=14, color=ORANGE)
    ax.text(4.9, -0.75, r"$\tau \, \frac{dU}{dt} = -U + R\,I(t), \qquad \tau = RC$",
            ha="center", va="center", fontsize=14)
    return _save(fig, "rc_circuit.png")


# --------------------------------------------------------------------------------- LIF neuron

def _spike_train(ax, x0, y, times, length=2.2, color=INK, height=0.35):
    ax.plot([x0, x0 + length], [y, y], color="#999999", lw=1)
    for t in times:
        ax.plot([x0 + t * length, x0 + t * length], [y, y + height], color=color, lw=2)


def lif_neuron() -> Path:
    """Weighted input spikes -> leaky membrane with a threshold -> output spikes."""
    fig, ax = _canvas(9.0, 4.2, (-0.3, 13.6), (-1.9, 4.7))
    rng = np.random.default_rng(3)
    body = (6.3, 1.5)
    for k, y in enumerate([3.3, 1.5, -0.3]):
        times = np.sort(rng.uniform(0.05, 0.95, 4))
        _spike_train(ax, 0.0, y, times)
        ax.text(-0.1, y + 0.15, f"$S_{k + 1}$", ha="right", va="center", fontsize=12)
        _arrow(ax, (2.4, y + 0.15), (body[0] - 1.45, body[1] + 0.35 * (y - 1.5) / 1.8),
               color="#555555", lw=1.3)
        ax.text(3.5, y + 0.15 + 0.35 * (y - 1.5) / 1.8 * 0.3 + 0.22, f"$w_{k + 1}$",
                ha="center", va="bottom", fontsize=12, color=BLUE)
    ax.text(1.1, 4.2, _("input spikes"), ha="center", fontsize=10)
    # the neuron: a rounded box with a small membrane trace inside
    ax.add_patch(FancyBboxPatch((body[0] - 1.4, body[1] - 1.5), 2.8, 3.0,
                                boxstyle="round,pad=0.1,rounding_size=0.5",
                                fc="#eef5fb", ec=BLUE, lw=2))
    t = np.linspace(0, 1, 200)
    u = np.zeros_like(t)
    level, spikes_at = 0.0, []
    for i in range(1, len(t)):
        level = 0.97 * level + 0.05
        if level > 1.0:
            spikes_at.append(t[i])
            level -= 1.0
        u[i] = level
    trace_x = body[0] - 1.15 + 2.3 * t
    trace_y = body[1] - 1.0 + 1.6 * u
    ax.plot(trace_x, trace_y, color=ORANGE, lw=1.6)
    ax.plot([body[0] - 1.15, body[0] + 1.15], [body[1] + 0.6] * 2, color="#555555", lw=1,
            ls="--")
    ax.text(body[0] + 1.2, body[1] + 0.6, "θ", ha="left", va="center", fontsize=11)
    ax.text(body[0], body[1] + 1.15, _("membrane U"), ha="center", va="center", fontsize=10)
    ax.text(body[0], body[1] - 1.95, _("leaky integrate, fire, reset"), ha="center", va="top",
            fontsize=10, color=BLUE)
    # output
    _arrow(ax, (body[0] + 1.55, body[1]), (9.6, body[1]), color=INK, lw=1.8)
    _spike_train(ax, 9.9, body[1] - 0.15, np.array(spikes_at), length=2.4, color=ORANGE,
                 height=0.45)
    ax.text(11.1, body[1] + 0.7, _("output spikes"), ha="center", fontsize=10)
    ax.text(6.6, -1.65,
            r"$I[t] = \sum_i w_i S_i[t] \qquad U[t] = \beta\, U[t-1] + I[t]"
            r" - \theta\, H(U[t-1]-\theta) \qquad S[t] = H(U[t] - \theta)$",
            ha="center", va="center", fontsize=12)
    return _save(fig, "lif_neuron.png")


# --------------------------------------------------------------------------------- network

def _column(ax, x, shown, total, color, radius=0.22, spread=5.6):
    """A column of neuron circles: the first and last few of ``total``, with dots between."""
    complete = shown >= total  # small enough to draw every neuron
    ys = np.linspace(spread / 2, -spread / 2, total if complete else shown + 1)
    gap = -1 if complete else shown // 2
    centres = []
    for i, y in enumerate(ys):
        if i == gap:
            ax.text(x, y, "⋮", ha="center", va="center", fontsize=16, fontfamily="DejaVu Sans")
            continue
        ax.add_patch(Circle((x, y), radius, fc=color, ec=INK, lw=1))
        centres.append((x, y))
    return centres


def network() -> Path:
    """784 inputs -> 1000 LIF -> 10 LIF, fully connected."""
    fig, ax = _canvas(8.0, 4.8, (-1.8, 10.6), (-4.3, 4.2))
    inputs = _column(ax, 0.8, 10, 784, "#dddddd")
    hidden = _column(ax, 4.6, 12, 1000, "#cfe3f3", spread=6.4)
    outputs = _column(ax, 8.4, 10, 10, "#f6d5c2", spread=5.2)
    rng = np.random.default_rng(0)
    for left, right in ((inputs, hidden), (hidden, outputs)):
        for a in left:
            for b in right:
                if rng.random() < 0.6:
                    ax.plot([a[0] + 0.22, b[0] - 0.22], [a[1], b[1]], color="#9aa5ad",
                            lw=0.35, zorder=0)
    for k, (x, y) in enumerate(outputs):
        ax.text(x + 0.4, y, str(k), ha="left", va="center", fontsize=9)
    ax.text(0.8, 3.5, _("input\n784 pixels,\nspike-coded"), ha="center", va="bottom", fontsize=10)
    ax.text(4.6, 3.5, _("hidden\n1000 LIF neurons"), ha="center", va="bottom", fontsize=10)
    ax.text(8.4, 3.5, _("output\n10 LIF neurons\n(one per digit)"), ha="center", va="bottom",
            fontsize=10)
    ax.text(2.7, -3.7, "Linear 784→1000", ha="center", fontsize=10, color=BLUE)
    ax.text(6.5, -3.7, "Linear 1000→10", ha="center", fontsize=10, color=BLUE)
    ax.text(4.6, -4.25, _("every time step: spikes in → weighted sums → LIF → spikes out"),
            ha="center", fontsize=9, color="#555555")
    return _save(fig, "network_784_1000_10.png")


# --------------------------------------------------------------------------------- neuron models

def _hodgkin_huxley(current: np.ndarray, dt: float) -> np.ndarray:
    """Membrane voltage (mV) of the 1952 squid-axon model under ``current`` (uA/cm^2).

    C dV/dt = I - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L), and each gate
    x in {m, h, n} relaxes as dx/dt = a_x(V) (1 - x) - b_x(V) x (resting potential -65 mV).
    """
    g_na, g_k, g_l, e_na, e_k, e_l = 120.0, 36.0, 0.3, 50.0, -77.0, -54.4

    def rates(v: float) -> tuple[float, ...]:
        a_m = 0.1 * (v + 40) / (1 - np.exp(-(v + 40) / 10))
        b_m = 4 * np.exp(-(v + 65) / 18)
        a_h = 0.07 * np.exp(-(v + 65) / 20)
        b_h = 1 / (1 + np.exp(-(v + 35) / 10))
        a_n = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10))
        b_n = 0.125 * np.exp(-(v + 65) / 80)
        return a_m, b_m, a_h, b_h, a_n, b_n

    v = -65.0
    a_m, b_m, a_h, b_h, a_n, b_n = rates(v)
    m, h, n = a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)  # at rest
    out = np.empty_like(current)
    for k, i in enumerate(current):
        a_m, b_m, a_h, b_h, a_n, b_n = rates(v)
        m += dt * (a_m * (1 - m) - b_m * m)
        h += dt * (a_h * (1 - h) - b_h * h)
        n += dt * (a_n * (1 - n) - b_n * n)
        ionic = g_na * m**3 * h * (v - e_na) + g_k * n**4 * (v - e_k) + g_l * (v - e_l)
        v += dt * (i - ionic)  # C = 1 uF/cm^2
        out[k] = v
    return out


def neuron_models() -> Path:
    """Three models, one input: a current step into Hodgkin-Huxley, LIF and a ReLU unit."""
    duration, dt = 60.0, 0.01  # ms
    t = np.arange(0, duration, dt)
    on = (t >= 10) & (t < 50)
    fig, axes = plt.subplots(2, 3, figsize=(10.5, 4.2), sharex=True,
                             gridspec_kw={"height_ratios": [1, 2.6], "hspace": 0.12,
                                          "wspace": 0.32})
    for ax in axes[0]:
        ax.plot(t, on.astype(float), color=INK, lw=1.4)
        ax.set_yticks([])
        ax.set_ylim(-0.2, 1.3)
        ax.spines[["top", "right", "left"]].set_visible(False)
    axes[0, 0].set_ylabel(_("input I"), fontsize=9)

    ax = axes[1, 0]  # Hodgkin-Huxley: the spike's shape comes out of the ion channels
    ax.plot(t, _hodgkin_huxley(10.0 * on, dt), color=BLUE, lw=1.2)
    ax.set_ylabel(_("membrane U (mV)"), fontsize=9)

    ax = axes[1, 1]  # LIF: 1 ms steps, beta = exp(-1/10), the spike is a 1 and a reset
    steps = np.arange(0, duration, 1.0)
    u, trace, spikes = 0.0, [], []
    for step in steps:
        was_above = u > 1.0
        u = np.exp(-1 / 10) * u + 0.17 * (10 <= step < 50) - was_above * 1.0
        trace.append(u)
        spikes.append(u > 1.0)
    ax.plot(steps, trace, color=BLUE, lw=1.2, drawstyle="steps-post")
    ax.axhline(1.0, color="#555555", ls="--", lw=1)
    ax.text(duration, 1.03, r"$\theta$", color="#555555", fontsize=10, va="bottom", ha="right")
    ax.vlines(steps[np.array(spikes)], 1.25, 1.55, color=INK, lw=1.5)
    ax.set_ylim(-0.1, 1.65)
    ax.set_ylabel(_("membrane U"), fontsize=9)

    ax = axes[1, 2]  # the artificial neuron: no time, no state, one number
    ax.plot(t, np.maximum(0.0, 0.8 * on), color=BLUE, lw=1.4)
    ax.set_ylim(-0.1, 1.65)
    ax.set_ylabel(_("output y"), fontsize=9)

    titles = [("Hodgkin-Huxley (1952)",
               _("4 coupled equations: ion channels\nshape every spike")),
              (_("leaky integrate-and-fire"),
               _("1 equation + threshold + reset:\nspike times only")),
              (_("artificial neuron (perceptron, ReLU)"),
               _("y = f(sum of w x): no time,\nno memory, one number out"))]
    for ax, (name, note) in zip(axes[0], titles, strict=True):
        ax.set_title(name, fontsize=10.5, fontweight="bold", color=INK, pad=34)
        ax.text(0.5, 1.04, note, transform=ax.transAxes, ha="center", va="bottom", fontsize=8.5,
                color="#555555")
    for ax in axes[1]:
        ax.set_xlabel(_("time (ms)"), fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
    fig.text(0.5, -0.06, _("\u2190 more biological detail, more cost per neuron"
                           "          cheaper, trains at scale, but no time \u2192"),
             ha="center", fontsize=9.5, color=ORANGE)
    return _save(fig, "neuron_models.png")


# ------------------------------------------------------------------------- BPTT, unrolled

def _node(ax, xy, text, color=INK, width=1.5, height=0.8):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05,rounding_size=0.2", fc="white",
                                ec=color, lw=1.8, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=13, color=color, zorder=4)


def bptt_unrolled() -> Path:
    """One LIF neuron unrolled over 3 steps (lesson 03): every path the gradient of L takes."""
    fig, ax = _canvas(10.5, 8.0, (-2.2, 12.6), (-2.6, 8.6))
    cols = [2.0, 6.5, 11.0]
    y_x, y_i, y_u, y_s, y_l = 0.0, 1.8, 3.7, 5.8, 7.8
    half = 0.42  # half a node's height: arrows start and end at the edges
    _node(ax, (-1.2, y_i), "w", color=BLUE, width=0.9)
    ax.text(-1.2, y_i - 0.75, _("input\nweight"), ha="center", va="top", fontsize=9, color=BLUE)
    for t, x in enumerate(cols):
        _node(ax, (x, y_x), f"x[{t}]", width=1.2)
        _node(ax, (x, y_i), f"I[{t}]", width=1.2)
        _node(ax, (x, y_u), f"U[{t}]", width=1.2)
        _node(ax, (x, y_s), f"S[{t}]", width=1.2)
        _arrow(ax, (x, y_x + half), (x, y_i - half))
        _arrow(ax, (x, y_i + half), (x, y_u - half))
        ax.text(x + 0.12, (y_i + y_u) / 2, "+1", ha="left", va="center", fontsize=10)
        # the spike: the step forward, the surrogate backward
        _arrow(ax, (x, y_u + half), (x, y_s - half), color=GREEN, lw=2.2)
        ax.text(x + 0.12, (y_u + y_s) / 2 - 0.25, f"H / g[{t}]", ha="left", va="center",
                fontsize=10.5, color=GREEN)
        _arrow(ax, (x, y_s + half), (6.5 + (x - 6.5) * 0.25, y_l - half), lw=1.4)
        # w to each I[t]: dI[t]/dw = x[t]
        start = (-1.2 + 0.45, y_i) if t == 0 else (-1.2 + 0.3, y_i - 0.35)
        ax.add_patch(FancyArrowPatch(start, (x - 0.62, y_i - (0 if t == 0 else 0.1)),
                                     arrowstyle="-|>", mutation_scale=14, color=BLUE, lw=1.4,
                                     connectionstyle="arc3,rad=0" if t == 0 else
                                     f"arc3,rad={0.12 + 0.04 * t}"))
    _node(ax, (6.5, y_l), "L = S[0] + S[1] + S[2]", width=4.4)
    for left, right in zip(cols[:-1], cols[1:], strict=True):
        # the leak: dU[t]/dU[t-1] = beta
        _arrow(ax, (left + 0.62, y_u), (right - 0.62, y_u), color=BLUE, lw=2.2)
        ax.text((left + right) / 2, y_u + 0.12, "×β", ha="center", va="bottom", fontsize=12,
                color=BLUE)
        # the reset: -theta * S[t-1], detached or carrying -theta * g[t-1]
        ax.add_patch(FancyArrowPatch((left + 0.62, y_s - 0.2), (right - 0.62, y_u + 0.25),
                                     arrowstyle="-|>", mutation_scale=14, color=ORANGE, lw=2,
                                     ls="--"))
        ax.text((left + right) / 2 + 0.1, (y_s + y_u) / 2 + 0.25, _("reset: −θ·S[t−1]"),
                ha="center", va="bottom", fontsize=9.5, color=ORANGE, rotation=-24)
    notes = [_("forward:  I[t] = w·x[t],   U[t] = β·U[t−1] + I[t] − θ·S[t−1],   "
               "S[t] = H(U[t] − θ)"),
             _("backward:  dI[t]/dw = x[t],   g[t] = σ'(U[t] − θ) (the surrogate, green),"),
             _("dU[t]/dU[t−1] = β (leak, blue)  −  θ·g[t−1] (reset, orange; 0 when the reset is "
               "detached)")]
    for k, line in enumerate(notes):
        ax.text(-2.1, -1.0 - 0.55 * k, line, ha="left", va="top", fontsize=10.5,
                color=[INK, GREEN, INK][k])
    return _save(fig, "bptt_unrolled.png")


def main(argv: list[str] | None = None) -> None:
    """Draw every diagram in the language of ``--lang`` (English by default)."""
    global language
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=LANGUAGES, default="en",
                        help="the labels' language: zh_CN writes assets/zh/NAME.png")
    language = parser.parse_args(argv).lang
    if language == "zh_CN":  # the course's Chinese font, shipped with snnlab
        sys.path.insert(0, str(HERE.parent))
        from snnlab import fonts

        fonts.use_chinese()
    for make in (rc_circuit, lif_neuron, network, neuron_models, bptt_unrolled):
        print("wrote", os.path.relpath(make(), HERE.parent))


if __name__ == "__main__":
    main()
