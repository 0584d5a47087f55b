"""Lesson 07's event panel: static PNG, then a figure and a video for every setting."""

from __future__ import annotations

import base64

import ipywidgets
import numpy as np
import pytest
import torch
from IPython.display import Image

from snnlab import events
from snnlab.course import widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _digits() -> torch.Tensor:
    images = torch.zeros(2, 1, 28, 28)
    images[:, :, 6:22, 12:16] = 0.9  # a bright bar
    return images


def test_event_rgb_colours_on_off_and_both():
    ev = torch.zeros(2, 1, 2)
    ev[0, 0, 0] = 1  # ON
    ev[1, 0, 1] = 1  # OFF
    rgb = widgets.event_rgb(ev.view(2, 1, 2))
    assert rgb.shape == (1, 2, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == widgets.ON_COLOUR and tuple(rgb[0, 1]) == widgets.OFF_COLOUR
    both = widgets.event_rgb(torch.ones(2, 1, 1))
    assert tuple(both[0, 0]) == (255, 255, 255)


def test_event_video_and_counts():
    recording = events.saccade_events(_digits()[:1], num_steps=5, angle=0.0)[:, 0]
    video = widgets.event_video(recording, fps=4, title="a 1")
    frames = list(video.frames())
    assert len(frames) == 5 and frames[0].shape == (400, 360, 3)
    assert not np.array_equal(frames[0], frames[1])  # the events and the step counter move
    counts = widgets.event_counts(recording)
    assert counts["events"] == int(recording.sum()) == counts["ON"] + counts["OFF"]
    assert counts["pixel values"] == 5 * 34 * 34
    with pytest.raises(ValueError, match="events"):
        widgets.event_video(recording.unsqueeze(1))
    with pytest.raises(TypeError, match="title"):
        widgets.event_video(recording, title=3)


def test_event_video_counts_steps_from_zero_and_has_a_legend():
    recording = events.saccade_events(_digits()[:1], num_steps=5, angle=0.0)[:, 0]
    video = widgets.event_video(recording, title="test digit #0 (a 1)")
    texts = [t.get_text() for t in video.fig.texts]
    video.draw(0)
    assert "test digit #0 (a 1)\ntime step 0 (of 0-4)" in [t.get_text() for t in video.fig.texts]
    video.draw(4)
    assert "test digit #0 (a 1)\ntime step 4 (of 0-4)" in [t.get_text() for t in video.fig.texts]
    legend = [t.get_text() for t in video.fig.legends[0].get_texts()]
    assert legend == ["ON (brighter)", "OFF (darker)"] and texts


def test_explorer_records_what_a_batch_recording_gives():
    # The explorer and the lesson's batch recording (same digits, angles and settings) agree.
    images = _digits()
    images[1] = images[1].transpose(-1, -2).clone()  # two different digits
    angles = events.saccade_angles(2, seed=0)
    batch = events.saccade_events(images, num_steps=6, speed=1.0, threshold=0.5, angle=angles)
    assert torch.equal(batch, events.saccade_events(images, num_steps=6, seed=0))
    for k in range(2):
        alone = widgets.lesson07.saccade_recording(images[k], float(angles[k]), 6, 1.0, 0.5)
        assert torch.equal(alone, batch[:, k])


def test_event_explorer_shows_each_digits_own_angle(shown):
    images = _digits()
    angles = torch.tensor([0.0, 2.0])
    panel = widgets.event_explorer(images, labels=[1, 7], num_steps=6, angles=angles)
    for k in range(2):
        expected = events.saccade_events(images, num_steps=6, angle=angles)[:, k]
        assert torch.equal(panel.record(k, 0.5, 1.0), expected)
    # default angles: those saccade_events(images, seed=0) uses
    panel = widgets.event_explorer(images, num_steps=6)
    assert torch.equal(panel.record(1, 0.5, 1.0), events.saccade_events(images, num_steps=6)[:, 1])
    with pytest.raises(ValueError, match="one angle per image"):
        widgets.event_explorer(images, num_steps=6, angles=torch.zeros(3))


def test_event_explorer_redraws_figure_and_video(shown):
    panel = widgets.event_explorer(_digits(), labels=[1, 7], num_steps=6)
    assert isinstance(shown[0], Image) and shown[0].data.startswith(PNG_MAGIC)
    assert shown[1] is panel and isinstance(panel, ipywidgets.interactive)
    figure, video = panel.out.outputs
    first = base64.b64decode(figure["data"]["image/png"])
    assert first.startswith(PNG_MAGIC)
    assert "FigureVideo: 6 frames" in video["data"]["text/plain"] and video["data"]["text/html"]
    (speed,) = [c for c in panel.children if getattr(c, "description", "").startswith("speed")]
    speed.value = 0.0  # a still digit: no events, a different picture
    figure, _ = panel.out.outputs
    assert base64.b64decode(figure["data"]["image/png"]) != first
    assert len(panel.out.outputs) == 2  # replaced, never stacked


@pytest.mark.parametrize("images, labels, num_steps, error, words", [
    (torch.zeros(2, 3, 28, 28), None, 6, ValueError, r"images must be a tensor \[K, 1, 28, 28\]"),
    (torch.zeros(2, 1, 32, 32), None, 6, ValueError, "load MNIST with size=28"),
    (torch.zeros(0, 1, 28, 28), None, 6, ValueError, "K >= 1"),
    (torch.zeros(2, 1, 28, 28).numpy(), None, 6, TypeError,
     "images must be a torch.Tensor, got a numpy"),
    (torch.full((2, 1, 28, 28), 2.0), None, 6, ValueError, r"images must lie in \[0, 1\]"),
    (torch.zeros(2, 1, 28, 28), [1], 6, ValueError, "one entry per image"),
    (torch.zeros(2, 1, 28, 28), None, 0, ValueError, "num_steps must be a positive int"),
])
def test_event_explorer_rejects_careless_input(images, labels, num_steps, error, words, shown):
    with pytest.raises(error, match=words):
        widgets.event_explorer(images, labels=labels, num_steps=num_steps)
    assert shown == []  # nothing drawn before the error


def test_event_explorer_takes_images_without_their_channel(shown):
    panel = widgets.event_explorer(_digits()[:, 0], num_steps=6)  # [K, 28, 28]
    assert isinstance(shown[0], Image) and shown[1] is panel


def test_event_counts_wants_one_recording_not_a_batch():
    batch = events.saccade_events(_digits(), num_steps=5, angle=0.0)  # [5, 2, 2, 34, 34]
    with pytest.raises(ValueError, match=r"events must be one recording \[T, 2, H, W\] with "
                                         r"T >= 1 \(ON and OFF channels\), got "
                                         r"\(5, 2, 2, 34, 34\): a batch\? Pick a sample first, "
                                         r"e.g. events\[:, 0\]"):
        widgets.event_counts(batch)
    assert widgets.event_counts(batch[:, 1])["pixel values"] == 5 * 34 * 34


def test_draw_events_says_a_recording_of_no_steps_has_nothing_to_show():
    recording = events.saccade_events(_digits()[:1], num_steps=5, angle=0.0)[:, 0]
    with pytest.raises(ValueError, match=r"got \(0, 2, 34, 34\): T = 0, no steps to show"):
        widgets.draw_events(recording[:0])


def test_draw_events_names_a_nan_and_where_it_is():
    from snnlab.checks import NonFiniteError

    recording = events.saccade_events(_digits()[:1], num_steps=5, angle=0.0)[:, 0].clone()
    recording[2, 1, 3, 4] = float("nan")
    with pytest.raises(NonFiniteError, match=r"events holds NaN: 1 of 11560 values, the first "
                                             r"at index \(2, 1, 3, 4\). Every value must be a "
                                             r"finite number"):
        widgets.draw_events(recording)
    recording[2, 1, 3, 4] = 0.5
    with pytest.raises(ValueError, match=r"events must hold 0/1 events .* found values in "
                                         r"\[0, 1\]: 1 of 11560 values, the first at index "
                                         r"\(2, 1, 3, 4\)"):
        widgets.draw_events(recording)
