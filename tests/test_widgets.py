"""The lesson panels build headlessly, show a static PNG, and re-draw when a knob moves."""

from __future__ import annotations

import base64
import gzip

import ipywidgets
import pytest
import torch
from IPython.display import Image

from snnlab import animate, checks, data
from snnlab.course import environment, widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(panel: ipywidgets.interactive) -> bytes:
    (entry,) = panel.out.outputs
    return base64.b64decode(entry["data"]["image/png"])


def _control(panel: ipywidgets.interactive, description: str) -> ipywidgets.Widget:
    matches = [c for c in panel.children if getattr(c, "description", None) == description]
    assert len(matches) == 1, f"no single control called {description!r}"
    return matches[0]


class _Handle:
    """What IPython's display(..., display_id=True) returns: it records its updates."""

    def __init__(self) -> None:
        self.updates: list = []

    def update(self, obj, **kwargs) -> None:
        self.updates.append(obj)


@pytest.fixture
def shown(monkeypatch):
    """Everything the panel functions display, in order (``shown.handles``: their handles)."""
    items = _Shown()

    def display(obj, **kwargs):
        items.append(obj)
        items.handles.append(_Handle())
        return items.handles[-1]

    monkeypatch.setattr(widgets.panels, "display", display)
    return items


class _Shown(list):
    def __init__(self) -> None:
        super().__init__()
        self.handles: list[_Handle] = []


def _digits() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    images = torch.zeros(3, 1, 28, 28)
    images[:, :, 6:22, 12:16] = torch.rand(3, 1, 16, 4, generator=generator)  # a bright bar
    return images


def test_lif_explorer_redraws_when_beta_moves(shown):
    panel = widgets.lif_explorer()
    assert isinstance(shown[0], Image) and shown[0].data.startswith(PNG_MAGIC)
    assert shown[1] is panel and isinstance(panel, ipywidgets.interactive)
    beta = _control(panel, "beta")
    assert isinstance(beta, ipywidgets.FloatSlider)
    first = _png(panel)
    assert first.startswith(PNG_MAGIC)
    beta.value = 0.7
    assert _png(panel).startswith(PNG_MAGIC) and _png(panel) != first
    _control(panel, "reset").value = "zero"
    assert len(panel.out.outputs) == 1  # replaced, never stacked


def test_encoding_explorer_redraws_for_each_code(shown):
    panel = widgets.encoding_explorer(_digits(), labels=torch.tensor([1, 7, 4]))
    seen = {_png(panel)}
    _control(panel, "code").value = "latency (log)"
    seen.add(_png(panel))
    _control(panel, "num_steps").value = 20
    seen.add(_png(panel))
    _control(panel, "digit (index)").value = 2
    seen.add(_png(panel))
    assert len(seen) == 4


def test_encoding_explorer_rejects_a_single_image():
    with pytest.raises(ValueError, match="images must be a tensor"):
        widgets.encoding_explorer(torch.rand(28 * 28))


def test_surrogate_explorer_redraws_for_slope_and_function(shown):
    panel = widgets.surrogate_explorer()
    first = _png(panel)
    _control(panel, "slope").value = 5.0
    second = _png(panel)
    _control(panel, "surrogate").value = "atan"
    assert len({first, second, _png(panel)}) == 3


@pytest.mark.parametrize("name", widgets.SURROGATES)
@pytest.mark.parametrize("slope, alpha", [(0.1, 0.1), (25.0, 2.0), (1000.0, 100.0)])
def test_surrogate_explorer_legend_covers_no_curve(name, slope, alpha):
    fig = widgets.draw_surrogate(name, slope, alpha)
    ax_step = fig.axes[0]
    fig.canvas.draw()
    box = ax_step.get_legend().get_window_extent()
    highest = max(ax_step.transData.transform(line.get_xydata())[:, 1].max()
                  for line in ax_step.lines)
    assert highest < box.y0


def test_rate_panel_is_repeatable():
    image = _digits()[0]
    first = widgets.encode(image, "rate", 30, gain=0.5)
    assert torch.equal(first, widgets.encode(image, "rate", 30, gain=0.5))
    assert first.shape == (30, 1, 28, 28)


def test_lif_response_matches_the_leaky_update():
    current, membrane, spikes = widgets.lif_response(0.9, 1.0, 0.3, "subtract", num_steps=20,
                                                     start=0)
    mem, expected = 0.0, []
    for _ in range(20):
        reset = 1.0 if mem > 1.0 else 0.0
        mem = 0.9 * mem + 0.3 - reset * 1.0
        expected.append(mem)
    assert torch.allclose(membrane, torch.tensor(expected), atol=1e-6)
    assert torch.equal(spikes, (membrane > 1.0).float())


def test_unknown_choices_are_rejected():
    with pytest.raises(ValueError, match="code must be one of"):
        widgets.encode(torch.rand(4), "phase", 5)
    with pytest.raises(ValueError, match="name must be one of"):
        widgets.make_surrogate("relu")


# ------------------------------------------------------------------ environment check (lesson 00)


def test_environment_check_reports_ok_lines(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(environment.config, "QUICK", True)
    environment.check()
    out = capsys.readouterr().out
    for name in ("Python", "torch", "device", "ipywidgets", "ffmpeg", "MNIST", "quick mode"):
        assert f"  {name}" in out
    assert "quick mode ON" in out


def test_environment_check_names_the_fix_for_missing_mnist(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SNNLAB_DATA_DIR", str(tmp_path))
    assert environment.check() is False
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "MNIST" in line)
    where = environment.short_path(tmp_path / "MNIST" / "raw")  # no machine path is stored
    assert line.startswith("PROBLEM") and where in line and "SNNLAB_DATA_DIR" in line


def test_environment_check_says_where_mnist_came_from(capsys, monkeypatch, tmp_path, mnist_root):
    """SNNLAB_DATA_DIR names an empty folder, and an earlier download sits in the cache: the
    check says so, rather than that MNIST is in that folder."""
    cached = tmp_path / "cache" / "snnlab" / "MNIST" / "raw"
    cached.mkdir(parents=True)
    for name in data.MNIST_FILES:
        content = gzip.decompress((mnist_root / "MNIST" / "raw" / name).read_bytes())
        (cached / name.removesuffix(".gz")).write_bytes(content)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SNNLAB_DATA_DIR", str(tmp_path / "empty"))
    environment.check()
    line = next(line for line in capsys.readouterr().out.splitlines() if "MNIST" in line)
    assert line.startswith("OK") and "10000 test images, downloaded earlier into" in line
    assert f"{environment.short_path(tmp_path / 'empty')} has none" in line
    assert not (tmp_path / "empty").exists()


def test_environment_check_names_the_fix_for_missing_ffmpeg(capsys, monkeypatch):


    monkeypatch.setattr(animate, "ffmpeg_exe", lambda: None)
    environment.check()
    line = next(line for line in capsys.readouterr().out.splitlines() if "ffmpeg" in line)
    assert line.startswith("PROBLEM") and "pip install imageio-ffmpeg" in line


# ------------------------------------------------------------------ Lesson 04: FC SNN on MNIST


def _small_networks() -> dict:
    from snnlab.models import FCSNN, SingleLayerSNN

    torch.manual_seed(0)
    fc = FCSNN(num_hidden=64, num_steps=25)
    with torch.no_grad():
        fc.fc1.weight.mul_(4)  # strong enough that a bright bar makes the outputs fire
        fc.fc2.weight.mul_(4)
    return {"fc": fc, "single": SingleLayerSNN(tau=2.0, num_steps=100)}


def test_output_explorer_redraws_for_digit_steps_and_network(shown):
    networks = _small_networks()
    panel = widgets.output_explorer(networks, _digits(), labels=torch.tensor([1, 7, 4]))
    assert isinstance(shown[0], Image) and shown[1] is panel
    assert _control(panel, "num_steps").value == 25  # the first network's own num_steps
    seen = {_png(panel)}
    _control(panel, "digit (index)").value = 2
    seen.add(_png(panel))
    _control(panel, "num_steps").value = 60
    seen.add(_png(panel))
    _control(panel, "network").value = "single"
    seen.add(_png(panel))
    assert len(seen) == 4 and len(panel.out.outputs) == 1
    assert networks["fc"].num_steps == 25 and networks["single"].num_steps == 100


def test_run_network_gives_the_models_output_for_one_digit():
    fc = _small_networks()["fc"]
    image = _digits()[1]
    spikes, membrane = widgets.run_network(fc, image, num_steps=30)
    assert spikes.shape == membrane.shape == (30, 10)
    assert fc.num_steps == 25  # restored
    fc.num_steps = 30
    expected_spikes, expected_membrane = fc(image[None])
    assert torch.equal(spikes, expected_spikes[:, 0])
    assert torch.allclose(membrane, expected_membrane[:, 0])
    assert spikes.sum() > 0


def test_run_network_repeats_poisson_input_and_leaves_the_random_stream_alone():
    single = _small_networks()["single"]
    image = _digits()[0]
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    first = widgets.run_network(single, image)
    assert torch.equal(torch.rand(2), expected)
    second = widgets.run_network(single, image)
    other_seed = widgets.run_network(single, image, seed=1)
    assert torch.equal(first[1], second[1]) and not torch.equal(first[1], other_seed[1])
    assert first[0].shape == (100, 10)


def test_draw_output_layer_marks_the_prediction():
    spikes = torch.zeros(10, 10)
    spikes[::2, 3] = 1  # class 3 fires 5 times, class 8 twice
    spikes[:2, 8] = 1
    membrane = torch.linspace(-6, 1.5, 100).reshape(10, 10)
    fig = widgets.draw_output_layer(spikes, membrane, _digits()[0], label=8)
    counts = fig.axes[-1]
    assert counts.get_title() == "prediction 3 ✗ (label 8)"
    assert [round(bar.get_height()) for bar in counts.patches] == [0, 0, 0, 5, 0, 0, 0, 0, 2, 0]
    assert counts.patches[3].get_facecolor() != counts.patches[8].get_facecolor()
    assert fig.axes[1].get_ylim()[0] < widgets.MEMBRANE_FLOOR + 0.1  # the floor, not -6
    assert fig.axes[1].get_ylim()[0] > -6
    assert widgets.to_png(fig).startswith(PNG_MAGIC)


def test_output_layer_panel_rejects_bad_input():
    networks = _small_networks()
    with pytest.raises(ValueError, match="spikes and membrane must both be"):
        widgets.draw_output_layer(torch.zeros(5, 10), torch.zeros(5, 9), _digits()[0])
    with pytest.raises(ValueError, match="image must be one 28x28 image"):
        widgets.run_network(networks["fc"], torch.rand(3, 28, 28))
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        widgets.run_network(networks["fc"], _digits()[0], num_steps=0)
    with pytest.raises(TypeError, match="num_steps attribute"):
        widgets.run_network(torch.nn.Linear(784, 10), _digits()[0])
    with pytest.raises(ValueError, match="labels must have one entry per image"):
        widgets.output_explorer(networks, _digits(), labels=[1, 2])
    with pytest.raises(TypeError, match="networks must be a model or a non-empty dict"):
        widgets.output_explorer({}, _digits())


# ------------------------------------------------------------------ Lesson 05: a convolutional SNN


def _lively_csnn(num_steps: int = 6):
    """A small-T CSNN with weights scaled up so that every layer fires."""
    from snnlab import models

    torch.manual_seed(0)
    model = models.CSNN(num_steps=num_steps)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "weight" in name:
                parameter.mul_(3.0)
    return model


def test_csnn_explorer_redraws_for_digit_layer_and_step(shown):
    model = _lively_csnn()
    images = (_digits() * 3).clamp(0, 1)
    panel = widgets.csnn_explorer(model, images, labels=torch.tensor([1, 7, 4]))
    assert isinstance(shown[0], Image) and shown[0].data.startswith(PNG_MAGIC)
    layer = _control(panel, "layer")
    assert [text for text, _ in layer.options] == [
        "layer 1: 12 maps of 12x12", "layer 2: 64 maps of 4x4", "output: 10 neurons"]
    seen = {_png(panel)}
    _control(panel, "time step").value = 4
    seen.add(_png(panel))
    layer.value = "lif3"
    seen.add(_png(panel))
    _control(panel, "digit (index)").value = 2
    seen.add(_png(panel))
    assert len(seen) == 4 and len(panel.out.outputs) == 1
    step = _control(panel, "time step")  # steps 0..T-1, opening at the last one
    assert (step.min, step.max) == (0, 5)


def test_csnn_explorer_needs_layer_spikes():
    from snnlab import models

    with pytest.raises(TypeError, match="layer_spikes"):
        widgets.csnn_explorer(models.FCSNN(num_hidden=10), _digits())


def test_mosaic_tiles_maps_with_grey_lines_around_each():
    maps = torch.arange(12.0).reshape(3, 2, 2)  # 3 maps of 2x2, 2 per row
    tiled = widgets.mosaic(maps, ncol=2)
    assert tiled.shape == (7, 7)
    assert torch.equal(tiled[1:3, 1:3], maps[0]) and torch.equal(tiled[1:3, 4:6], maps[1])
    assert torch.equal(tiled[4:6, 1:3], maps[2])
    assert tiled[0].isnan().all() and tiled[:, 3].isnan().all() and tiled[4:6, 4:6].isnan().all()
    column = widgets.mosaic(torch.tensor([0.0, 1.0, 1.0]))  # neurons: a column, neuron n at 2n+1
    assert column.shape == (7, 3) and column[[1, 3, 5], 1].tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"maps must be a tensor \[C, H, W\]"):
        widgets.mosaic(torch.zeros(2, 3))


def test_firing_statistics_by_hand():
    spikes = torch.zeros(4, 2, 3)  # 4 steps, 2 images, 3 neurons
    spikes[:, :, 1] = 1  # neuron 1: every step of both images (saturated)
    spikes[:, 0, 2] = 1  # neuron 2: every step of image 0, never on image 1
    stats = widgets.firing_statistics(spikes)
    assert stats["neurons"] == 3
    assert stats["rate"] == pytest.approx(12 / 24)
    assert stats["dead"] == pytest.approx(1 / 3) and stats["saturated"] == pytest.approx(1 / 3)
    # image 0: neuron 0 silent, 1 and 2 saturated; image 1: 0 and 2 silent, 1 saturated
    assert stats["silent per image"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    assert stats["saturated per image"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    table = widgets.firing_table({"lif1": spikes}).splitlines()
    assert table[1].split() == ["lif1", "3", "0.500", "33.3%", "33.3%", "50.0%", "50.0%"]
    with pytest.raises(ValueError, match=r"\[T, B, \.\.\.\]"):
        widgets.firing_statistics(torch.zeros(4, 3))


def test_firing_rate_histograms_name_dead_neurons_in_titles():
    spikes = torch.zeros(5, 2, 4)
    spikes[:, :, 0] = 1
    spikes[::2, :, 1] = 1
    fig = widgets.draw_firing_rates({"lif1": spikes, "lif3": spikes[:, :, :2]},
                                    titles={"lif1": "layer 1"})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["layer 1\n4 neurons, 50% dead, 25% saturated",
                      "lif3\n2 neurons, 0% dead, 50% saturated"]
    assert widgets.to_png(fig).startswith(PNG_MAGIC)


def test_draw_csnn_layer_checks_the_step():
    record = torch.zeros(5, 12, 12, 12)
    for step in (0, 4):  # time steps count from 0
        png = widgets.to_png(widgets.draw_csnn_layer(_digits()[0], record, step))
        assert png.startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="step must be an int from 0 to 4"):
        widgets.draw_csnn_layer(_digits()[0], record, 5)
    with pytest.raises(ValueError, match="pick a sample first"):
        widgets.draw_csnn_layer(_digits()[0], torch.zeros(5, 3, 12, 12, 12), 1)


def test_feature_map_video_has_one_frame_per_step(tmp_path):
    model = _lively_csnn(num_steps=4)
    with torch.no_grad():
        layers = model.layer_spikes((_digits() * 3).clamp(0, 1))
    one = {name: spikes[:, 1] for name, spikes in layers.items()}
    video = widgets.feature_map_video(_digits()[1], one, label=7, fps=4)
    frames = list(video.frames())
    assert len(frames) == video.num_frames == 4
    height, width, colours = frames[0].shape
    assert colours == 3 and height % 2 == 0 and width % 2 == 0
    # after the last frame each panel shows its layer's spikes at the last step
    for ax, name in zip(video.fig.axes[1:], ["lif1", "lif2", "lif3"], strict=True):
        shown_now = torch.as_tensor(ax.images[0].get_array().filled(float("nan")))
        assert torch.equal(shown_now.isnan(), widgets.mosaic(one[name][-1]).isnan())
        assert torch.equal(shown_now.nan_to_num(), widgets.mosaic(one[name][-1]).nan_to_num())
    assert one["lif1"][-1].sum() > 0 and not torch.equal(one["lif1"][0], one["lif1"][-1])
    assert video.save(tmp_path / "csnn.gif").stat().st_size > 0
    with pytest.raises(ValueError, match="same number of steps"):
        widgets.feature_map_video(_digits()[1], {"a": one["lif1"], "b": one["lif3"][:2]})


# ------------------------------------------------------------------ Lesson 06: spiking autoencoder


def _small_autoencoder(num_steps: int = 4):
    from snnlab import models

    torch.manual_seed(0)
    return models.SpikingAutoencoder(latent_dim=8, num_steps=num_steps)


def _digits_32() -> torch.Tensor:
    return torch.nn.functional.pad(_digits(), (2, 2, 2, 2))  # [3, 1, 32, 32]


def test_autoencoder_explorer_redraws_for_digit_and_noise(shown):
    model = _small_autoencoder().train()
    panel = widgets.autoencoder_explorer(model, _digits_32(), labels=torch.tensor([1, 7, 4]))
    assert isinstance(shown[0], Image) and shown[0].data.startswith(PNG_MAGIC)
    assert shown[1] is panel
    seen = {_png(panel)}
    _control(panel, "noise").value = 0.3
    seen.add(_png(panel))
    _control(panel, "digit (index)").value = 2
    seen.add(_png(panel))
    assert len(seen) == 3 and len(panel.out.outputs) == 1
    assert model.training  # the panel put it in eval mode only while drawing


def test_run_autoencoder_gives_latent_spikes_and_every_steps_reconstruction():
    model = _small_autoencoder(num_steps=5).eval()
    image = _digits_32()[1]
    latent, reconstructions = widgets.run_autoencoder(model, image)
    assert latent.shape == (5, 8) and reconstructions.shape == (5, 32, 32)
    with torch.no_grad():
        want_latent, want_membrane = model(image[None])
    assert torch.equal(latent, want_latent[:, 0])
    assert torch.equal(reconstructions, want_membrane[:, 0, 0])
    assert not torch.equal(reconstructions[0], reconstructions[-1])  # it changes over time


def test_add_noise_is_seeded_clipped_and_leaves_the_random_stream_alone():
    image = _digits_32()[0]
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    first = widgets.add_noise(image, 0.4)
    assert torch.equal(torch.rand(2), expected)
    assert torch.equal(first, widgets.add_noise(image, 0.4))
    assert first.min() >= 0 and first.max() <= 1 and not torch.equal(first, image)
    assert torch.equal(widgets.add_noise(image, 0.0), image)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        widgets.add_noise(image, -0.1)


def test_draw_autoencoder_titles_each_step_with_its_error():
    latent = torch.zeros(3, 8)
    latent[1, 2] = 1
    image = torch.zeros(32, 32)
    reconstructions = torch.stack([torch.full((32, 32), v) for v in (0.5, 0.2, 0.0)])
    fig = widgets.draw_autoencoder(image, latent, reconstructions)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1] == "latent spikes\n1 of 24"
    assert titles[2:] == ["step 0\nMSE 0.250", "step 1\nMSE 0.040", "step 2\nMSE 0.000"]
    with pytest.raises(ValueError, match="the same T"):
        widgets.draw_autoencoder(image, latent, reconstructions[:2])


def test_autoencoder_panel_asks_for_32x32_images():
    model = _small_autoencoder()
    with pytest.raises(ValueError, match="size=32"):
        widgets.autoencoder_explorer(model, _digits())
    with pytest.raises(ValueError, match="one 32x32 image"):
        widgets.run_autoencoder(model, _digits()[0])


def test_static_copy_stays_without_a_front_end_and_goes_once_the_panel_is_drawn(shown):
    panel = widgets.lif_explorer()
    static = shown.handles[0]
    beta = _control(panel, "beta")
    beta.value = 0.8  # re-drawing inside the kernel (nbconvert, tests) keeps the static copy
    assert static.updates == [] and panel._view_count == 0
    panel._view_count = 1  # what JupyterLab reports when it draws the panel
    assert static.updates == [{"text/plain": ""}]
    panel._view_count = 2  # a second view (another tab) changes nothing more
    assert len(static.updates) == 1


def test_sliders_a_choice_does_not_use_are_greyed_out(shown):
    panel = widgets.surrogate_explorer()
    slope, alpha = _control(panel, "slope"), _control(panel, "alpha")
    assert not slope.disabled and alpha.disabled  # fast_sigmoid uses the slope
    _control(panel, "surrogate").value = "atan"
    assert slope.disabled and not alpha.disabled
    _control(panel, "surrogate").value = "straight_through"
    assert slope.disabled and alpha.disabled
    assert slope.base ** slope.min <= 0.3 and slope.base ** slope.max >= 1000  # lesson 03: 0.3-1000


def test_encoding_explorer_greys_out_the_other_codes_knobs(shown):
    panel = widgets.encoding_explorer(_digits(), [8, 1, 4])
    gain, tau = _control(panel, "gain"), _control(panel, "tau")
    assert not gain.disabled and tau.disabled
    _control(panel, "code").value = "latency (log)"
    assert gain.disabled and not tau.disabled


# ------------------------------------------------------------------ careless arguments

def _tiny_fc():
    from snnlab.models import FCSNN

    return FCSNN(num_hidden=8, num_steps=4)


DIGIT = _digits()[0]
RECORD = torch.zeros(4, 10)
MAPS = torch.zeros(4, 12, 12, 12)


@pytest.mark.parametrize("call, error, words", [
    # lesson 01
    (lambda: widgets.draw_encoding(DIGIT.numpy()), TypeError, r"image must be a torch.Tensor"),
    (lambda: widgets.draw_encoding(None), TypeError, "image must be a torch.Tensor"),
    (lambda: widgets.draw_encoding(torch.rand(32, 32)), ValueError, "image must be one 28x28"),
    (lambda: widgets.draw_encoding(_digits()), ValueError, r"pick one image first"),
    (lambda: widgets.draw_encoding(DIGIT * 255), ValueError, r"image must lie in \[0, 1\]"),
    (lambda: widgets.draw_encoding((DIGIT * 255).to(torch.uint8)), TypeError,
     r"image.float\(\) / 255"),
    (lambda: widgets.draw_encoding(DIGIT, code="poisson"), ValueError, "code must be one of"),
    (lambda: widgets.draw_encoding(DIGIT, num_steps=2.5), TypeError, "num_steps must be"),
    (lambda: widgets.encoding_explorer(_digits().numpy()), TypeError, "images must be a torch"),
    (lambda: widgets.encoding_explorer(torch.rand(3, 1, 32, 32)), ValueError, "size=28"),
    (lambda: widgets.encoding_explorer(_digits(), labels="abc"), TypeError, "labels must be"),
    (lambda: widgets.encoding_explorer(_digits(), labels=[1]), ValueError,
     r"labels must have one entry per image \(3\)"),
    (lambda: widgets.encoding_explorer(_digits(), labels=[1.5, 2, 3]), TypeError,
     "labels must hold int"),
    # lesson 02
    (lambda: widgets.draw_lif(current=float("nan")), ValueError, "current must be in"),
    (lambda: widgets.draw_lif(current="0.2"), TypeError, "current must be a number"),
    (lambda: widgets.draw_lif(beta=1.5), ValueError, "beta must be in"),
    (lambda: widgets.draw_lif(reset="hard"), ValueError, "reset must be one of"),
    (lambda: widgets.lif_response(0.9, 1.0, 0.2, "zero", start=-5), ValueError,
     "start must be an int from 0"),
    (lambda: widgets.lif_response(0.9, 1.0, 0.2, "zero", start=2.5), ValueError, "start must be"),
    (lambda: widgets.lif_response(0.9, 1.0, 0.2, "zero", num_steps=0), ValueError, "num_steps"),
    # lesson 03
    (lambda: widgets.draw_surrogate("relu"), ValueError, "name must be one of"),
    (lambda: widgets.draw_surrogate(slope=0), ValueError, "slope must be > 0"),
    # lesson 04
    (lambda: widgets.run_network(_tiny_fc(), DIGIT * 255), ValueError, r"image must lie in"),
    (lambda: widgets.run_network(_tiny_fc(), DIGIT, seed="a"), TypeError, "seed must be an int"),
    (lambda: widgets.draw_output_layer(RECORD.numpy(), RECORD, DIGIT), TypeError,
     "spikes must be a torch.Tensor"),
    (lambda: widgets.draw_output_layer(RECORD, RECORD, torch.rand(32, 32)), ValueError,
     "image must be one 28x28"),
    (lambda: widgets.draw_output_layer(RECORD, RECORD, DIGIT, label=12), ValueError,
     "label must be None or a class from 0 to 9"),
    (lambda: widgets.draw_output_layer(RECORD, RECORD, DIGIT, label="3"), ValueError, "label"),
    (lambda: widgets.draw_output_layer(RECORD, RECORD, DIGIT, threshold=0), ValueError,
     "threshold must be > 0"),
    (lambda: widgets.draw_output_layer(RECORD[:0], RECORD[:0], DIGIT), ValueError,
     r"\[num_steps, classes\]"),
    (lambda: widgets.draw_output_layer(RECORD, RECORD * float("nan"), DIGIT),
     checks.NonFiniteError, "membrane holds NaN"),
    (lambda: widgets.output_explorer(_tiny_fc(), _digits().numpy()), TypeError, "images must be"),
    # lesson 05
    (lambda: widgets.firing_table([MAPS]), TypeError, "layers must be a non-empty dict"),
    (lambda: widgets.draw_firing_rates({"a": MAPS[:, None]}, titles=["x"]), TypeError,
     "titles must be None or a dict"),
    (lambda: widgets.draw_firing_rates({"a": torch.zeros(4, 3)}), ValueError,
     r"spikes must be one layer's spikes \[T, B, ...\]"),
    (lambda: widgets.draw_csnn_layer(None, MAPS, 1), TypeError, "image must be a torch.Tensor"),
    (lambda: widgets.draw_csnn_layer(torch.rand(32, 32), MAPS, 1), ValueError, "28x28"),
    (lambda: widgets.feature_map_video(DIGIT, {"lif1": MAPS}, fps=0), ValueError,
     "fps must be > 0"),
    (lambda: widgets.feature_map_video(DIGIT, {"lif3": torch.zeros(20_000, 10)}), ValueError,
     "at most 10000"),
    (lambda: widgets.feature_map_video(None, {"lif1": MAPS}), TypeError, "image must be"),
    (lambda: widgets.csnn_explorer(_lively_csnn(2), _digits()[:, 0]), ValueError,
     r"images.unsqueeze\(1\)"),
    (lambda: widgets.csnn_explorer(_lively_csnn(2), _digits(), labels=["a", "b", "c"]),
     TypeError, "labels must hold int"),
    # lesson 06
    (lambda: widgets.add_noise(torch.zeros(32, 32), float("nan")), ValueError, "noise must be"),
    (lambda: widgets.add_noise(torch.zeros(32, 32), float("inf")), ValueError, "noise must be"),
    (lambda: widgets.add_noise(torch.zeros(32, 32).numpy(), 0.1), TypeError, "image must be"),
    (lambda: widgets.add_noise(torch.zeros(32, 32), 0.1, seed="a"), TypeError, "seed must be"),
    (lambda: widgets.run_autoencoder(_tiny_fc(), torch.zeros(32, 32)), TypeError,
     "model must be an snnlab.models.SpikingAutoencoder, got FCSNN"),
    (lambda: widgets.run_autoencoder(_small_autoencoder(), torch.zeros(28, 28)), ValueError,
     "image must be one 32x32"),
    (lambda: widgets.draw_spike_matrix(torch.zeros(4, 8), None), TypeError,
     "ax must be a matplotlib Axes"),
    (lambda: widgets.draw_spike_matrix(torch.zeros(8), None), ValueError,
     r"spikes must be \[T, N\]"),
    (lambda: widgets.draw_autoencoder(torch.zeros(28, 28), torch.zeros(4, 8),
                                      torch.zeros(4, 32, 32)),
     ValueError, "image must be one 32x32"),
    (lambda: widgets.draw_autoencoder(torch.zeros(32, 32), torch.zeros(4, 8),
                                      torch.zeros(4, 32, 32), target=torch.zeros(28, 28)),
     ValueError, "target must be one 32x32"),
    (lambda: widgets.autoencoder_explorer(None, torch.zeros(2, 1, 32, 32)), TypeError,
     "model must be an snnlab.models.SpikingAutoencoder"),
    (lambda: widgets.autoencoder_explorer(_small_autoencoder(), torch.zeros(2, 1, 28, 28)),
     ValueError, "size=32"),
])
def test_careless_widget_arguments_are_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
