"""The lesson panels build headlessly, show a static PNG, and re-draw when a knob moves."""

from __future__ import annotations

import base64

import ipywidgets
import pytest
import torch

from snnlab import check, widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(panel: ipywidgets.interactive) -> bytes:
    (entry,) = panel.out.outputs
    return base64.b64decode(entry["data"]["image/png"])


def _control(panel: ipywidgets.interactive, description: str) -> ipywidgets.Widget:
    matches = [c for c in panel.children if getattr(c, "description", None) == description]
    assert len(matches) == 1, f"no single control called {description!r}"
    return matches[0]


@pytest.fixture
def shown(monkeypatch):
    """Everything the panel functions display, in order."""
    items = []
    monkeypatch.setattr(widgets, "display", items.append)
    return items


def _digits() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    images = torch.zeros(3, 1, 28, 28)
    images[:, :, 6:22, 12:16] = torch.rand(3, 1, 16, 4, generator=generator)  # a bright bar
    return images


def test_lif_explorer_redraws_when_beta_moves(shown):
    panel = widgets.lif_explorer()
    assert isinstance(shown[0], widgets.Image) and shown[0].data.startswith(PNG_MAGIC)
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
    monkeypatch.setattr(check.config, "QUICK", True)
    check.environment()
    out = capsys.readouterr().out
    for name in ("Python", "torch", "device", "ipywidgets", "ffmpeg", "MNIST", "quick mode"):
        assert f"  {name}" in out
    assert "quick mode ON" in out


def test_environment_check_names_the_fix_for_missing_mnist(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SNNLAB_DATA_DIR", str(tmp_path))
    assert check.environment() is False
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "MNIST" in line)
    assert line.startswith("PROBLEM") and str(tmp_path) in line and "SNNLAB_DATA_DIR" in line


def test_environment_check_names_the_fix_for_missing_ffmpeg(capsys, monkeypatch):
    from snnlab import animate

    monkeypatch.setattr(animate, "ffmpeg_exe", lambda: None)
    check.environment()
    line = next(line for line in capsys.readouterr().out.splitlines() if "ffmpeg" in line)
    assert line.startswith("PROBLEM") and "pip install imageio-ffmpeg" in line
