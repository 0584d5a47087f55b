"""snnlab.plot: every figure renders to a non-blank PNG with the right axes, labels and marks."""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from snnlab import checks, plot, surrogate  # noqa: E402

DPI = 100


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def render(ax, tmp_path, name="figure.png") -> np.ndarray:
    """Save the figure holding ``ax`` as a PNG and read it back: [height, width] grey, 0..255."""
    path = tmp_path / name
    ax.figure.savefig(path, dpi=DPI)
    return np.asarray(Image.open(path).convert("L"))


def dark_fraction(pixels: np.ndarray) -> float:
    return float((pixels < 128).mean())


def pixel_at(ax, pixels: np.ndarray, x: float, y: float) -> int:
    """The grey value of the PNG pixel where data point (x, y) of ``ax`` was drawn."""
    ax.figure.canvas.draw()
    col, row = ax.transData.transform((x, y))  # display units: pixels from the bottom left
    return int(pixels[pixels.shape[0] - 1 - int(round(row)), int(round(col))])


def marks(ax) -> np.ndarray:
    """The (time step, neuron) positions of a raster's marks, sorted."""
    offsets = np.asarray(ax.collections[0].get_offsets())
    return offsets[np.lexsort((offsets[:, 1], offsets[:, 0]))]


def spike_positions(spikes: np.ndarray) -> np.ndarray:
    """The (t, n) positions of the spikes of a [T, N] array, sorted the same way as marks()."""
    return np.argwhere(np.asarray(spikes) != 0).astype(float)


# ------------------------------------------------------------------------------------ raster

def test_raster_marks_sit_at_the_spikes(tmp_path):
    spikes = torch.zeros(20, 5)
    spikes[3, 1] = spikes[10, 4] = spikes[19, 0] = spikes[0, 2] = 1
    ax = plot.raster(spikes.requires_grad_())  # grad is fine: detached inside
    np.testing.assert_array_equal(marks(ax), spike_positions(spikes.detach().numpy()))
    assert ax.get_xlabel() == "time step" and ax.get_ylabel() == "neuron index"
    assert ax.get_xlim() == (-0.5, 19.5) and ax.get_ylim() == (-0.5, 4.5)
    pixels = render(ax, tmp_path)
    assert pixel_at(ax, pixels, 3, 1) < 100      # a spike: a black mark
    assert pixel_at(ax, pixels, 10, 4) < 100
    assert pixel_at(ax, pixels, 6, 3) > 200      # no spike: white


def test_raster_of_784_inputs_over_200_steps_is_readable(tmp_path):
    generator = torch.Generator().manual_seed(0)
    rates = torch.zeros(28, 28)
    rates[8:20, 12:16] = 0.8                      # a bright vertical bar, like a "1"
    spikes = (torch.rand(200, 1, 28, 28, generator=generator) < rates).float()
    ax = plot.raster(spikes)                      # [T, 1, 28, 28] flattens to [200, 784]
    flat = spikes.reshape(200, 784).numpy()
    np.testing.assert_array_equal(marks(ax), spike_positions(flat))
    assert ax.get_ylim() == (-0.5, 783.5)
    pixels = render(ax, tmp_path)
    # The rows of the bar are dark, the rows of the empty image background are white.
    bar_row = 10 * 28 + 13
    assert pixel_at(ax, pixels, 100, bar_row) < 160
    assert pixel_at(ax, pixels, 100, 50) > 240
    assert 0.01 < dark_fraction(pixels) < 0.5


def test_raster_of_a_single_neuron(tmp_path):
    spikes = np.zeros(50)
    spikes[[5, 25, 26, 49]] = 1
    ax = plot.raster(spikes)
    np.testing.assert_array_equal(marks(ax), [[5, 0], [25, 0], [26, 0], [49, 0]])
    assert ax.get_yticks().size == 0  # one neuron: no "neuron index 0" to read
    pixels = render(ax, tmp_path)
    assert pixel_at(ax, pixels, 25, 0) < 100 and pixel_at(ax, pixels, 15, 0) > 200


def test_neuron_0_is_the_bottom_row_in_every_neuron_by_time_plot(tmp_path):
    spikes = torch.zeros(10, 12)
    spikes[:, 0] = 1                                  # only neuron 0 fires, at every step
    axes = [plot.raster(spikes), *plot.layers(spikes, spikes, spikes),
            plot.output_spikes(spikes), plot.membrane_heatmap(spikes)]
    for ax in axes:
        low, high = ax.get_ylim()
        assert low < high and not ax.yaxis_inverted()  # the index grows upwards
    ax = plot.raster(spikes)
    pixels = render(ax, tmp_path)
    assert pixel_at(ax, pixels, 5, 0) < 100 and pixel_at(ax, pixels, 5, 11) > 200
    _, bottom = ax.transData.transform((5, 0))
    _, top = ax.transData.transform((5, 11))
    assert bottom < top                               # display y: neuron 0 below neuron 11


def test_raster_draws_into_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert plot.raster(torch.ones(4, 2), ax=axes[1]) is axes[1]
    assert len(axes[1].collections) == 1 and not axes[0].collections


@pytest.mark.parametrize("bad, error, words", [
    (torch.tensor(1.0), ValueError, ["spikes", "()"]),
    (torch.zeros(0, 3), ValueError, ["spikes", "(0, 3)"]),
    ("spikes", TypeError, ["spikes", "str"]),
])
def test_raster_rejects_bad_input_clearly(bad, error, words):
    with pytest.raises(error) as info:
        plot.raster(bad)
    assert all(word in str(info.value) for word in words)


# ------------------------------------------------------------------------------------ traces

def lif_run(current: torch.Tensor, beta: float = 0.8, threshold: float = 1.0):
    """A tiny subtract-reset LIF run, for traces() to draw."""
    mem, mems, spks = torch.zeros(current.shape[1:]), [], []
    for i in current:
        mem = beta * mem + i
        spk = (mem > threshold).float()
        mem = mem - spk * threshold
        mems.append(mem)
        spks.append(spk)
    return torch.stack(mems), torch.stack(spks)


def test_traces_three_panels_with_threshold_line(tmp_path):
    current = torch.cat([torch.zeros(10), torch.full((40,), 0.3)])
    membrane, spikes = lif_run(current)
    axes = plot.traces(current, membrane, spikes, threshold=1.0)
    assert len(axes) == 3 and len(axes[0].figure.axes) == 3
    assert [a.get_ylabel() for a in axes] == ["input current I", "membrane U", "neuron"]
    assert axes[2].get_xlabel() == "time step"
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), current.numpy())
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), membrane.numpy(), rtol=1e-6)
    dashed = [line for line in axes[1].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_ydata()) == [1.0, 1.0]
    assert spikes.sum() > 3
    np.testing.assert_array_equal(marks(axes[2]), spike_positions(spikes[:, None].numpy()))
    assert dark_fraction(render(axes[0], tmp_path)) > 0.005


def test_traces_of_several_neurons_get_one_colour_each():
    current = torch.full((30, 3), 0.3) * torch.tensor([1.0, 1.5, 2.0])
    membrane, spikes = lif_run(current)
    axes = plot.traces(current, membrane, spikes)
    assert len(axes[1].lines) == 3
    colours = {line.get_color() for line in axes[1].lines}
    assert len(colours) == 3
    np.testing.assert_array_equal(marks(axes[2]), spike_positions(spikes.numpy()))


def test_traces_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"membrane and spikes .* \(10, 2\) and \(10, 3\)"):
        plot.traces(torch.zeros(10), torch.zeros(10, 2), torch.zeros(10, 3))
    with pytest.raises(ValueError, match=r"current .* time steps"):
        plot.traces(torch.zeros(9), torch.zeros(10), torch.zeros(10))
    with pytest.raises(ValueError, match=r"membrane .* \(10, 4, 2\)"):
        plot.traces(torch.zeros(10), torch.zeros(10, 4, 2), torch.zeros(10, 4, 2))
    with pytest.raises(ValueError, match="list of 3 matplotlib Axes"):
        plot.traces(torch.zeros(10), torch.zeros(10), torch.zeros(10), ax=plt.gca())


# ------------------------------------------------------------------------------------ layers

def test_layers_stacks_three_rasters_on_one_time_axis(tmp_path):
    generator = torch.Generator().manual_seed(1)
    layers = [(torch.rand(100, 1, 28, 28, generator=generator) < 0.2).float(),
              (torch.rand(100, 64, generator=generator) < 0.1).float(),
              (torch.rand(100, 10, generator=generator) < 0.05).float()]
    axes = plot.layers(*layers)
    assert [a.get_ylabel() for a in axes] == ["input neuron", "hidden neuron", "output neuron"]
    assert [a.get_xlabel() for a in axes] == ["", "", "time step"]
    for axis, spikes in zip(axes, layers, strict=True):
        np.testing.assert_array_equal(marks(axis), spike_positions(spikes.reshape(100, -1)))
    assert [a.get_ylim()[1] for a in axes] == [783.5, 63.5, 9.5]
    assert dark_fraction(render(axes[0], tmp_path)) > 0.02


def test_layers_needs_one_number_of_steps():
    with pytest.raises(ValueError, match="same number of time steps"):
        plot.layers(torch.zeros(10, 4), torch.zeros(10, 3), torch.zeros(9, 2))


# ------------------------------------------------------------------------------------ counts

def test_spike_counts_bars_and_winner():
    spikes = torch.zeros(20, 4)
    spikes[:5, 0] = 1
    spikes[:12, 2] = 1
    spikes[:1, 3] = 1
    ax = plot.spike_counts(spikes, labels=["zero", "one", "two", "three"])
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [5, 0, 12, 1]
    colours = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert colours[2] == plot.HIGHLIGHT.lower()
    assert colours.count(plot.HIGHLIGHT.lower()) == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zero", "one", "two", "three"]
    assert ax.get_ylabel() == "spike count in 20 steps"


def test_spike_counts_a_tie_highlights_no_one_and_says_so():
    spikes = torch.zeros(20, 4)
    spikes[:7, 1] = 1
    spikes[:7, 3] = 1
    spikes[:2, 0] = 1
    ax = plot.spike_counts(spikes)
    colours = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert plot.HIGHLIGHT.lower() not in colours
    assert ax.get_title() == "tied: 1, 3"
    assert plot.spike_counts(torch.zeros(5, 3)).get_title() == ""  # silence is no tie


def test_spike_counts_rejects_batches_and_wrong_labels():
    with pytest.raises(ValueError, match=r"spikes .* \(20, 8, 10\).*pick one sample"):
        plot.spike_counts(torch.zeros(20, 8, 10))
    with pytest.raises(ValueError, match="labels must name each of the 10"):
        plot.spike_counts(torch.zeros(20, 10), labels=["a", "b"])


def test_output_spikes_shows_firing_rates(tmp_path):
    spikes = torch.zeros(40, 3)
    spikes[::2, 0] = 1   # rate 0.5
    spikes[::4, 2] = 1   # rate 0.25
    ax = plot.output_spikes(spikes, labels=["cat", "dog", "eel"])
    np.testing.assert_array_equal(marks(ax), spike_positions(spikes.numpy()))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "eel"]
    right = ax.child_axes[0]
    assert [t.get_text() for t in right.get_yticklabels()] == ["0.50", "0.00", "0.25"]
    assert right.get_ylabel() == "firing rate (spikes / step)"
    assert dark_fraction(render(ax, tmp_path)) > 0.005


def test_membrane_heatmap_is_neurons_by_time():
    membrane = torch.randn(30, 5, generator=torch.Generator().manual_seed(0))
    ax = plot.membrane_heatmap(membrane)
    np.testing.assert_allclose(ax.images[0].get_array(), membrane.T.numpy())
    assert ax.get_xlabel() == "time step" and ax.get_ylabel() == "neuron index"
    colorbar = ax.figure.axes[1]
    assert colorbar.get_ylabel() == "membrane U"


# ------------------------------------------------------------------------------------ images

def test_image_grid_originals_above_reconstructions(tmp_path):
    originals = torch.zeros(4, 1, 28, 28)
    originals[:, :, 10:18, 10:18] = 1.0
    reconstructions = originals.reshape(4, 784) * 0.5          # [K, 784] is reshaped to 28x28
    axes = plot.image_grid(torch.cat([originals.reshape(4, 784), reconstructions]), ncol=4,
                           titles=["original"] * 4 + ["reconstruction"] * 4)
    assert len(axes) == 8
    assert [a.get_title() for a in axes[:5]] == ["original"] * 4 + ["reconstruction"]
    assert axes[5].images[0].get_array().shape == (28, 28)
    assert axes[5].images[0].get_array()[14, 14] == pytest.approx(0.5)
    assert axes[0].images[0].get_clim() == axes[7].images[0].get_clim() == (0.0, 1.0)
    pixels = render(axes[0], tmp_path)
    assert 0.05 < dark_fraction(pixels) < 0.95


def test_image_grid_leaves_empty_cells_blank_and_checks_input():
    axes = plot.image_grid(np.random.rand(5, 8, 8), ncol=3)
    assert len(axes) == 6 and [len(a.images) for a in axes] == [1, 1, 1, 1, 1, 0]
    with pytest.raises(ValueError, match=r"images must have shape .* \(5, 7\)"):
        plot.image_grid(np.zeros((5, 7)))
    with pytest.raises(ValueError, match="titles must have one entry per image"):
        plot.image_grid(np.zeros((2, 4, 4)), titles=["only one"])


# ------------------------------------------------------------------------------------ history

@dataclass
class StandInHistory:
    """Exactly the fields of snnlab.training.History that plot.history reads."""

    metric: str
    steps: dict[str, list[float]] = field(default_factory=dict)
    epochs: dict[str, list[float]] = field(default_factory=dict)
    stopped: str | None = None


def test_history_curves(tmp_path):
    history = StandInHistory(
        metric="accuracy",
        steps={"loss": [2.3, 1.5, 1.1, 0.9, 0.7, 0.6], "accuracy": [0.1, 0.4, 0.6, 0.7, 0.8, 0.8]},
        epochs={"epoch": [1, 2], "train_loss": [1.6, 0.7], "train_accuracy": [0.4, 0.8],
                "test_loss": [1.0, 0.8], "test_accuracy": [0.65, 0.75], "seconds": [3.0, 3.1]})
    axes = plot.history(history)
    assert [a.get_ylabel() for a in axes] == ["train loss", "train accuracy", "loss", "accuracy"]
    assert [a.get_xlabel() for a in axes] == ["optimizer step"] * 2 + ["epoch"] * 2
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), history.steps["loss"])
    np.testing.assert_allclose(axes[0].lines[0].get_xdata(), range(1, 7))
    train, test = axes[3].lines
    np.testing.assert_allclose(test.get_ydata(), [0.65, 0.75])
    np.testing.assert_allclose(train.get_xdata(), [1, 2])
    assert [t.get_text() for t in axes[2].get_legend().get_texts()] == ["train", "test"]
    assert dark_fraction(render(axes[0], tmp_path)) > 0.01


def test_history_without_finished_epochs_or_test_set():
    history = StandInHistory(metric="mse", steps={"loss": [0.5, 0.4], "mse": [0.5, 0.4]},
                             epochs={"epoch": [], "train_loss": [], "test_loss": []},
                             stopped="interrupted")
    axes = plot.history(history)
    assert axes[1].get_ylabel() == "train MSE"
    assert not axes[2].lines and axes[2].texts[0].get_text() == "no finished epoch"
    assert axes[0].figure.get_suptitle() == "stopped early: interrupted"
    nan_test = StandInHistory(metric="mse", steps={"loss": [1.0], "mse": [1.0]},
                              epochs={"epoch": [1], "train_loss": [1.0], "test_loss": [np.nan],
                                      "train_mse": [1.0], "test_mse": [np.nan]})
    axes = plot.history(nan_test)
    assert [t.get_text() for t in axes[2].get_legend().get_texts()] == ["train"]


def test_history_rejects_other_objects():
    with pytest.raises(TypeError, match=r"History .* without \.metric"):
        plot.history({"loss": [1.0]})


# ------------------------------------------------------------------------------------ surrogate

@pytest.mark.parametrize("make", [surrogate.fast_sigmoid, surrogate.atan, surrogate.sigmoid,
                                  surrogate.straight_through])
def test_surrogate_panels_show_step_smooth_and_derivative(make, tmp_path):
    fn = make()
    ax_step, ax_derivative = plot.surrogate(fn)
    x = torch.linspace(-1, 1, 801)
    step, smooth = ax_step.lines
    np.testing.assert_array_equal(step.get_ydata(), (x > 0).float().numpy())
    curve = fn.smooth(x).numpy()
    if make is surrogate.fast_sigmoid:  # rises by only 2/slope: stretched to span 0..1
        curve = (curve - curve.min()) / (curve.max() - curve.min())
        assert "stretched 13x" in smooth.get_label()  # it rises by 2/26 over [-1, 1]
    np.testing.assert_allclose(smooth.get_ydata(), curve, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ax_derivative.lines[0].get_ydata(), fn.derivative(x).numpy(),
                               rtol=1e-6)
    assert fn.name in smooth.get_label()
    assert ax_step.get_xlabel() == r"$x = U - \theta$"
    assert ax_derivative.get_ylabel() == "dS/dx"
    assert dark_fraction(render(ax_step, tmp_path)) > 0.01


def legend_above_every_curve(ax) -> bool:
    """True when the axes' legend lies wholly above every point of every curve (display
    coordinates, after drawing): it then covers none of them."""
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    highest = max(ax.transData.transform(line.get_xydata())[:, 1].max() for line in ax.lines)
    return bool(highest < box.y0)


@pytest.mark.parametrize("make", [surrogate.fast_sigmoid, surrogate.atan, surrogate.sigmoid,
                                  surrogate.straight_through])
@pytest.mark.parametrize("figsize", [(8, 9.5 / 4), (6.4, 2.6)])
def test_surrogate_legend_covers_no_curve(make, figsize):
    _, ax = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    ax_step, _ = plot.surrogate(make(), ax=ax)
    assert legend_above_every_curve(ax_step)
    plt.close("all")


def test_surrogate_rejects_plain_functions():
    with pytest.raises(TypeError, match=r"Surrogate .* without \.name"):
        plot.surrogate(torch.sigmoid)


# ------------------------------------------------------------------------------------ inputs

def test_to_numpy_detaches_and_rejects_other_types():
    x = torch.ones(3, requires_grad=True, dtype=torch.bfloat16)
    out = plot.to_numpy(x * 2, "x")
    assert isinstance(out, np.ndarray) and out.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError, match="membrane must be a torch.Tensor or a numpy array, got"):
        plot.to_numpy({}, "membrane")


# --------------------------------------------------------------------------------- careless input

SPIKES = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
ONE_SAMPLE = {"raster": plot.raster, "output_spikes": plot.output_spikes,
              "membrane_heatmap": plot.membrane_heatmap, "spike_counts": plot.spike_counts}
NAME = {"membrane_heatmap": "membrane"}


@pytest.mark.parametrize("bad, error, words", [
    (None, TypeError, "must be a torch.Tensor or a numpy array, got NoneType"),
    ("spikes", TypeError, "must be a torch.Tensor or a numpy array, got str"),
    (SPIKES * float("nan"), checks.NonFiniteError, r"holds NaN: 9 of 9 values"),
    (SPIKES / 0, checks.NonFiniteError, "holds NaN and inf"),
    ([[0, 1], [1]], ValueError, "rectangular"),
    (torch.zeros(3, 2, dtype=torch.complex64), TypeError, "real numbers, got dtype complex64"),
    (np.array([["a", "b"]]), TypeError, "real numbers"),
    (torch.zeros(0, 3), ValueError, "T >= 1"),
    (torch.tensor(1.0), ValueError, "T >= 1"),
])
@pytest.mark.parametrize("function", sorted(ONE_SAMPLE))
def test_one_sample_figures_name_the_bad_argument(function, bad, error, words):
    name = NAME.get(function, "spikes")
    with pytest.raises(error, match=f"^{name} .*{words}"):
        ONE_SAMPLE[function](bad)


@pytest.mark.parametrize("function", sorted(ONE_SAMPLE))
def test_ax_must_be_one_axes(function):
    with pytest.raises(TypeError, match="ax must be None or one matplotlib Axes, got str"):
        ONE_SAMPLE[function](SPIKES, ax="left")


@pytest.mark.parametrize("call, error, words", [
    (lambda: plot.raster(SPIKES, color=[]), TypeError, "color must be a colour name"),
    (lambda: plot.raster(SPIKES, color=5), TypeError, "color must be a colour name"),
    (lambda: plot.output_spikes(SPIKES, labels=5), TypeError, "labels must be a list"),
    (lambda: plot.spike_counts(SPIKES, labels=["a", "b"]), ValueError, "labels must name each"),
    (lambda: plot.traces(SPIKES, SPIKES, SPIKES, threshold="1"), TypeError, "threshold"),
    (lambda: plot.traces(SPIKES, SPIKES, SPIKES, threshold=float("nan")), ValueError,
     "threshold must be > 0 and finite"),
    (lambda: plot.traces(SPIKES[:, :2], SPIKES, SPIKES), ValueError, "current must have"),
    (lambda: plot.traces(SPIKES, SPIKES * float("nan"), SPIKES), checks.NonFiniteError,
     "membrane holds NaN"),
    (lambda: plot.layers(SPIKES, SPIKES, None), TypeError, "output_spikes must be"),
    (lambda: plot.image_grid(torch.rand(4, 8, 8), ncol=True), TypeError, "ncol must be"),
    (lambda: plot.image_grid(torch.rand(4, 8, 8), ncol=2.0), TypeError, "ncol must be"),
    (lambda: plot.image_grid(torch.full((2, 8, 8), float("nan"))), checks.NonFiniteError,
     "images holds NaN"),
    (lambda: plot.image_grid(torch.rand(2, 3, 8, 8)), ValueError, r"images must have shape"),
    (lambda: plot.surrogate(surrogate.atan(), x_max=0), ValueError, "x_max must be > 0"),
    (lambda: plot.surrogate(surrogate.atan(), x_max="1"), TypeError, "x_max must be a number"),
    (lambda: plot.surrogate("atan"), TypeError, "fn must be a snnlab.surrogate.Surrogate"),
    (lambda: plot.history({"loss": [1.0]}), TypeError, "history must be a snnlab.training"),
])
def test_figure_parameters_are_checked(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ------------------------------------------------------------------------------ encoding noise

def test_rate_std_dots_at_the_measurements_and_the_bernoulli_lines(tmp_path):
    steps, probabilities = [10, 100, 1000], [0.1, 0.5]
    measured = torch.tensor([[0.095, 0.03, 0.0095], [0.16, 0.05, 0.016]])
    ax = plot.rate_std(steps, probabilities, measured)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(dots) == 2
    np.testing.assert_allclose(dots[1].get_ydata(), [0.16, 0.05, 0.016])
    theory = [line for line in ax.lines if line.get_marker() != "o" and len(line.get_xdata())]
    x, y = theory[1].get_xdata(), theory[1].get_ydata()
    np.testing.assert_allclose(y, np.sqrt(0.25 / x))
    assert dark_fraction(render(ax, tmp_path)) > 0.01
    with pytest.raises(ValueError, match=r"measured must have shape \[len\(probabilities\)"):
        plot.rate_std(steps, [0.5], measured)


def test_damage_lines_are_seed_means_with_min_max_bands(tmp_path):
    errors = {"rate": torch.tensor([[0.1, 0.2], [0.3, 0.4]]),
              "latency": torch.tensor([[0.01, 0.02], [0.01, 0.04]])}
    ax = plot.damage([0, 1], errors, "jitter (steps)", baseline=0.5)
    lines = [line for line in ax.lines if line.get_marker() == "o"]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.2, 0.3])
    np.testing.assert_allclose(lines[1].get_ydata(), [0.01, 0.03])
    assert "2 seeds" in lines[0].get_label()
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "jitter (steps)"
    assert any(line.get_linestyle() == "--" for line in ax.lines)  # the baseline
    assert len(ax.collections) == 2  # one band per code
    assert dark_fraction(render(ax, tmp_path)) > 0.01
    with pytest.raises(ValueError, match=r"errors\['rate'\] must have shape \[num_seeds, 3\]"):
        plot.damage([0, 1, 2], errors, "x")
    with pytest.raises(ValueError, match="at least one code"):
        plot.damage([0], {}, "x")


def test_digit_name_says_which_test_digit_and_its_label_with_the_right_article():
    assert plot.digit_name(0, 8) == "test digit #0 (an 8)"
    assert plot.digit_name(torch.tensor(3), torch.tensor(1), "digit") == "digit #3 (a 1)"


@pytest.fixture
def chinese():
    """The language is Chinese during the test, English again after it (snnlab.i18n)."""
    from snnlab import i18n

    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_figures_speak_chinese_and_keep_their_symbols(chinese, tmp_path):
    from snnlab import animate

    current = torch.cat([torch.zeros(10), torch.full((40,), 0.3)])
    membrane, spikes = lif_run(current)
    axes = plot.traces(current, membrane, spikes, threshold=1.0)
    assert [a.get_ylabel() for a in axes] == ["输入电流 I", "膜电位 U", "神经元"]
    assert axes[2].get_xlabel() == "时间步"
    assert axes[2].get_title(loc="left") == "输出脉冲 S"
    assert axes[1].texts[0].get_text() == r"阈值 $\theta$"
    assert dark_fraction(render(axes[0], tmp_path)) > 0.005  # drawn with the Chinese font
    tie = torch.zeros(20, 4)
    tie[:7, 1] = tie[:7, 3] = 1
    ax = plot.spike_counts(tie)
    assert (ax.get_title(), ax.get_ylabel()) == ("并列：1, 3", "20 个时间步内的脉冲计数")
    video = animate.spike_counts(tie[:3, :], labels=["a", "b", "c", "d"])
    assert video.draw(2)[-1].get_text() == "时间步 2（共 0-2）：并列：b 和 d"


def test_history_says_why_it_stopped_in_the_courses_language(chinese):
    history = StandInHistory(metric="mse", steps={"loss": [0.5, 0.4], "mse": [0.5, 0.4]},
                             epochs={"epoch": [], "train_loss": [], "test_loss": []},
                             stopped="non-finite")
    title = plot.history(history)[0].figure.get_suptitle()
    assert "出现 NaN 或 inf" in title and "non-finite" not in title, title
