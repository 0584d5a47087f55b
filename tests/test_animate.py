"""snnlab.animate: videos decode to the right frames and size, show inline, and degrade
gracefully (one warning, never an exception) when ffmpeg is unavailable."""

from __future__ import annotations

import base64
import errno
import importlib.util
import sys

import matplotlib

matplotlib.use("Agg")

import imageio_ffmpeg  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from snnlab import animate, checks  # noqa: E402


def decode_mp4(path) -> tuple[tuple[int, int], np.ndarray]:
    """(width, height) and the grey frames [T, H, W] of a video, decoded by imageio-ffmpeg."""
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="gray", bpp=1)
    meta = next(reader)
    width, height = meta["size"]
    frames = np.stack([np.frombuffer(f, np.uint8).reshape(height, width) for f in reader])
    return (width, height), frames


def decode_gif(path) -> tuple[tuple[int, int], list[np.ndarray], int]:
    """(width, height), the grey frames and the total duration in ms of a GIF (Pillow)."""
    with Image.open(path) as gif:
        frames, duration = [], 0
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("L")))
            duration += gif.info["duration"]
        return gif.size, frames, duration


def counting_frames(num_steps: int = 12, side: int = 6) -> torch.Tensor:
    """Spike frames [T, side, side] where frame t lights pixels 0..t (row-major), so every
    frame differs from the one before it."""
    frames = torch.zeros(num_steps, side * side)
    for t in range(num_steps):
        frames[t, : t + 1] = 1
    return frames.reshape(num_steps, side, side)


@pytest.fixture
def no_ffmpeg(monkeypatch):
    """Make the ffmpeg binary unavailable, and let the one-time warning fire again."""
    monkeypatch.setitem(matplotlib.rcParams, "animation.ffmpeg_path", "/nonexistent/ffmpeg")
    monkeypatch.setattr(animate, "_warned", False)


# ------------------------------------------------------------------------------------ import

def test_import_points_matplotlib_at_imageio_ffmpeg():
    assert matplotlib.rcParams["animation.ffmpeg_path"] == imageio_ffmpeg.get_ffmpeg_exe()
    assert animate.ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()


def test_import_never_raises_without_imageio_ffmpeg(monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # `import imageio_ffmpeg` fails
    monkeypatch.setitem(matplotlib.rcParams, "animation.ffmpeg_path", "/nonexistent/ffmpeg")
    spec = importlib.util.find_spec("snnlab.animate")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)  # a second, independent copy of the module
    assert matplotlib.rcParams["animation.ffmpeg_path"] == "/nonexistent/ffmpeg"
    assert fresh.ffmpeg_exe() is None
    assert "imageio-ffmpeg" in fresh._missing_ffmpeg()


# ------------------------------------------------------------------------------------ fast path

def test_video_mp4_has_every_frame_scaled_up_crisply(tmp_path):
    frames = counting_frames(num_steps=12, side=6)
    path = animate.video(frames, fps=10, scale=8).save(tmp_path / "digits.mp4")
    assert path == tmp_path / "digits.mp4"
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (12, pytest.approx(1.2))
    size, decoded = decode_mp4(path)
    assert size == (48, 48) and decoded.shape == (12, 48, 48)
    # Each spike is an 8x8 white square: sample the middle of every square of every frame.
    centres = decoded[:, 4::8, 4::8].astype(int)
    np.testing.assert_allclose(centres, frames.numpy() * 255, atol=40)


def test_video_gif_is_exact(tmp_path):
    frames = counting_frames(num_steps=10, side=4)
    path = animate.video(frames, fps=20, scale=3).save(tmp_path / "digits.gif")
    size, decoded, duration = decode_gif(path)
    assert size == (12, 12) and len(decoded) == 10 and duration == 10 * 50
    expected = frames.repeat_interleave(3, 1).repeat_interleave(3, 2).numpy() * 255
    np.testing.assert_array_equal(np.stack(decoded), expected)


def test_video_pads_odd_sizes_and_takes_flat_neurons(tmp_path):
    size, decoded = decode_mp4(animate.video(torch.ones(5, 3, 5), scale=1).save(tmp_path / "a.mp4"))
    assert size == (6, 4) and decoded.shape[0] == 5           # one black row and column added
    assert decoded[:, :3, :5].min() > 200 and decoded[:, 3, :].max() < 60
    neurons = torch.zeros(6, 10)
    neurons[:, 3] = 1
    size, decoded = decode_mp4(animate.video(neurons, scale=8).save(tmp_path / "b.mp4"))
    assert size == (80, 8) and decoded.shape[0] == 6          # [T, N]: one row of N cells
    assert decoded[:, 4, 28].min() > 200 and decoded[:, 4, 12].max() < 60


def test_video_stretches_values_outside_zero_one():
    membrane = torch.linspace(-2.0, 3.0, 2 * 4 * 4).reshape(2, 4, 4)
    pixels = animate.video(membrane, scale=2).pixels
    assert pixels.min() == 0 and pixels.max() == 255 and pixels.shape == (2, 8, 8)


def test_video_shows_inline_as_a_small_mp4(tmp_path):
    generator = torch.Generator().manual_seed(0)
    digit = torch.zeros(28, 28)
    digit[5:23, 12:16] = 0.9
    digit[5:9, 8:20] = 0.9
    spikes = (torch.rand(200, 1, 28, 28, generator=generator) < digit).float()
    html = animate.video(spikes)._repr_html_()
    assert html.startswith("<video") and 'type="video/mp4"' in html
    assert len(html) < 1_000_000                              # well under 1 MB for 200 steps
    data = html.split("base64,")[1].split('"')[0]
    (tmp_path / "inline.mp4").write_bytes(base64.b64decode(data))
    size, decoded = decode_mp4(tmp_path / "inline.mp4")
    assert size == (224, 224) and decoded.shape[0] == 200


# ------------------------------------------------------------------------------------ matplotlib

def test_spikes_animation_mp4_and_gif(tmp_path):
    frames = torch.zeros(8, 28, 28)
    frames[1::2] = 1                                          # odd steps: every pixel spikes
    video = animate.spikes(frames.requires_grad_(), fps=10, title="all or nothing")
    size, decoded = decode_mp4(video.save(tmp_path / "spikes.mp4"))
    assert size == (280, 300) and decoded.shape[0] == 8
    brightness = decoded.reshape(8, -1).mean(axis=1)
    assert (brightness[1::2] > brightness[0::2] + 60).all()  # the image lights up every other step
    gif_size, gif_frames, duration = decode_gif(video.save(tmp_path / "spikes.gif"))
    assert gif_size == (280, 300) and len(gif_frames) == 8 and duration == 8 * 100
    html = video._repr_html_()
    assert html.startswith("<video") and "data:video/mp4;base64," in html


def test_spikes_title_counts_time_steps():
    video = animate.spikes(torch.zeros(5, 4), title="hidden layer")  # [T, N]: a row of cells
    artists = video.draw(3)
    assert artists[-1].get_text() == "hidden layer\ntime step 3 (of 0-4)"
    assert artists[0].get_array().shape == (1, 4)
    assert repr(video) == "<FigureVideo: 5 frames at 25 fps>"  # the text beside the video


def test_spike_counts_bars_grow_step_by_step(tmp_path):
    spikes = torch.zeros(6, 3)
    spikes[:, 0] = torch.tensor([1, 0, 1, 0, 1, 0])
    spikes[3:, 2] = 1
    video = animate.spike_counts(spikes, labels=["a", "b", "c"], fps=6)
    expected = np.cumsum(spikes.numpy(), axis=0)
    standings = ["class a leads"] * 5 + ["tied: a and c"]     # a: 1 1 2 2 3 3, c: 0 0 0 1 2 3
    for t in range(6):
        artists = video.draw(t)                               # 3 bars, 3 numbers, the title
        bars, numbers, title = artists[:3], artists[3:6], artists[6]
        assert [bar.get_height() for bar in bars] == list(expected[t])
        assert [number.get_text() for number in numbers] == [str(int(c)) for c in expected[t]]
        assert title.get_text() == f"time step {t} (of 0-5): {standings[t]}"
    assert imageio_ffmpeg.count_frames_and_secs(str(video.save(tmp_path / "c.mp4")))[0] == 6


def colours(video, t):
    """The hex colour of each bar of a spike_counts video at step t."""
    bars = [a for a in video.draw(t) if isinstance(a, matplotlib.patches.Rectangle)]
    return [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in bars]


def test_spike_counts_highlights_a_unique_leader_only():
    spikes = torch.zeros(4, 4)
    spikes[0, 1] = spikes[1, 2] = spikes[2, 2] = spikes[3, 1] = spikes[3, 3] = 1
    video = animate.spike_counts(spikes, title="784-1000-10 SNN, untrained")
    high, bar = animate.HIGHLIGHT.lower(), animate.BAR.lower()
    assert colours(video, 0) == [bar, high, bar, bar]         # 0 1 0 0: class 1 alone
    assert colours(video, 1) == [bar] * 4                     # 0 1 1 0: a tie, no one orange
    assert colours(video, 2) == [bar, bar, high, bar]         # 0 1 2 0: class 2 alone
    assert colours(video, 3) == [bar] * 4                     # 0 2 2 1: a tie again
    assert video.draw(1)[-1].get_text() == ("784-1000-10 SNN, untrained\n"
                                            "time step 1 (of 0-3): tied: 1 and 2")
    assert video.draw(2)[-1].get_text().endswith("time step 2 (of 0-3): class 2 leads")
    silent = animate.spike_counts(torch.zeros(3, 3))
    assert colours(silent, 2) == [bar] * 3                    # nobody has spiked: no leader
    assert silent.draw(2)[-1].get_text() == "time step 2 (of 0-2): no spikes yet"
    three = torch.zeros(1, 5)
    three[0, [0, 2, 4]] = 1
    assert animate.spike_counts(three).draw(0)[-1].get_text().endswith("tied: 0, 2 and 4")


def test_spike_counts_title_must_be_text():
    with pytest.raises(TypeError, match="title must be a str"):
        animate.spike_counts(torch.zeros(3, 2), title=5)


# ------------------------------------------------------------------------------------ fallbacks

def test_without_ffmpeg_video_falls_back_to_gif_with_one_warning(no_ffmpeg, tmp_path, recwarn):
    frames = counting_frames(num_steps=5, side=4)
    html = animate.video(frames, scale=2).to_html()
    assert html.startswith('<img src="data:image/gif;base64,')
    path = animate.video(frames, scale=2).save(tmp_path / "clip.mp4")
    assert path == tmp_path / "clip.gif" and not (tmp_path / "clip.mp4").exists()
    assert decode_gif(path)[0] == (8, 8) and len(decode_gif(path)[1]) == 5
    warnings = [str(w.message) for w in recwarn if "snnlab.animate" in str(w.message)]
    assert len(warnings) == 1                                 # one warning, however many videos
    assert "no usable ffmpeg binary" in warnings[0] and "imageio-ffmpeg" in warnings[0]


def test_without_ffmpeg_matplotlib_path_uses_the_js_player(no_ffmpeg, tmp_path):
    limit = matplotlib.rcParams["animation.embed_limit"]
    video = animate.spikes(counting_frames(num_steps=4, side=5))
    with pytest.warns(UserWarning, match="no usable ffmpeg binary"):
        html = video.to_html()
    assert "<script" in html and "<video" not in html
    assert html.count('] = "data:image/png;base64,') == 4    # every frame embedded
    assert matplotlib.rcParams["animation.embed_limit"] == limit
    path = video.save(tmp_path / "clip.mp4")
    assert path.suffix == ".gif" and len(decode_gif(path)[1]) == 4


def test_broken_ffmpeg_binary_never_raises(monkeypatch, tmp_path):
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'this is not ffmpeg' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setitem(matplotlib.rcParams, "animation.ffmpeg_path", str(fake))
    monkeypatch.setattr(animate, "_warned", False)
    with pytest.warns(UserWarning, match="ffmpeg failed.*this is not ffmpeg"):
        html = animate.video(counting_frames(num_steps=3, side=4)).to_html()
    assert html.startswith("<img")


# ------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("call, message", [
    (lambda: animate.video(torch.zeros(4, 2, 3, 5, 5)), r"frames .* \(4, 2, 3, 5, 5\).*pick one"),
    (lambda: animate.video(torch.zeros(7)), r"frames must have shape .* \(7,\)"),
    (lambda: animate.video(torch.zeros(4, 5, 5), fps=0), "fps must be > 0"),
    (lambda: animate.video(torch.zeros(4, 5, 5), scale=0), "scale must be a positive int"),
    (lambda: animate.spikes(torch.zeros(0, 5, 5)), r"frames .* \(0, 5, 5\)"),
    (lambda: animate.spike_counts(torch.zeros(4, 3), labels=["x"]), "labels must name each"),
    (lambda: animate.video(torch.zeros(4, 5, 5)).save("clip.avi"), r"\.mp4 or \.gif.*clip\.avi"),
])
def test_bad_input_is_rejected_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, error, words", [
    (lambda: animate.video(torch.zeros(20_000, 4, 4)), ValueError,
     r"frames has 20000 time steps.*at most 10000.*frames\[:500\]"),
    (lambda: animate.spikes(np.zeros((10_001, 3))), ValueError, "frames has 10001 time steps"),
    (lambda: animate.spike_counts(torch.zeros(50_000, 10)), ValueError,
     "spikes has 50000 time steps"),
    (lambda: animate.video(torch.zeros(4, 28, 28), scale=10_000), ValueError,
     r"scale=10000 would need .* GB"),
    (lambda: animate.video(torch.zeros(2, 6000, 6000)), ValueError, r"\(2, 6000, 6000\).*GB"),
    (lambda: animate.video(torch.full((3, 4, 4), float("nan"))), checks.NonFiniteError,
     "frames holds NaN"),
    (lambda: animate.spikes(torch.zeros(3, 4, 4), fps=float("inf")), ValueError,
     "fps must be > 0 and finite"),
    (lambda: animate.spike_counts(torch.zeros(3, 4), fps="25"), TypeError, "fps must be a number"),
    (lambda: animate.video(torch.zeros(3, 4, 4), scale=True), TypeError, "scale must be"),
    (lambda: animate.video(None), TypeError, "frames must be a torch.Tensor"),
    (lambda: animate.video(torch.zeros(3, 4, 4)).save(None), TypeError, "path must be a file"),
])
def test_absurd_videos_are_refused_before_allocating(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_save_into_a_missing_folder_creates_it(tmp_path):
    target = tmp_path / "new" / "folder" / "clip.gif"
    assert animate.video(counting_frames(num_steps=3, side=4)).save(target) == target
    assert len(decode_gif(target)[1]) == 3


def test_save_onto_a_folder_names_it(tmp_path):
    folder = tmp_path / "clip.gif"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        animate.video(counting_frames(num_steps=3, side=4)).save(folder)


def _pillow_on_a_full_disk(monkeypatch):
    """Pillow's save writes the first bytes of the file, then fails as a full disk does."""
    def save(image, fp, *args, **kwargs):
        with open(fp, "wb") as file:
            file.write(b"GIF89a the first bytes")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Image.Image, "save", save)


def test_a_full_disk_leaves_the_old_gif_and_no_partial_one(monkeypatch, tmp_path):
    target = tmp_path / "clip.gif"
    target.write_bytes(b"yesterday's clip")
    _pillow_on_a_full_disk(monkeypatch)
    with pytest.raises(OSError) as raised:
        animate.video(counting_frames(num_steps=3, side=4)).save(target)
    assert raised.value.errno == errno.ENOSPC
    assert str(raised.value).startswith(f"[Errno 28] could not write {str(target)!r} (it was "
                                        "left as it was): the disk is full (No space left on "
                                        "device; ")
    assert target.read_bytes() == b"yesterday's clip"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.gif"]


def test_a_full_disk_under_ffmpeg_leaves_no_partial_mp4(monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "ffmpeg"  # writes part of the file, then fails as ffmpeg does
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nfor a in "$@"; do case "$a" in *.tmp) printf "part" > "$a";; '
                    'esac; done\ncat > /dev/null\n'
                    'echo "Error writing trailer: No space left on device" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setitem(matplotlib.rcParams, "animation.ffmpeg_path", str(fake))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.warns(UserWarning, match=r"ffmpeg failed writing .*out/clip\.mp4 .*No space"):
        path = animate.video(counting_frames(num_steps=3, side=4)).save(out / "clip.mp4")
    assert path == out / "clip.gif" and list(out.iterdir()) == [path]  # the GIF fit
    path.unlink()
    _pillow_on_a_full_disk(monkeypatch)  # and now the GIF does not either
    with pytest.warns(UserWarning, match="No space"), pytest.raises(
            OSError, match=r"could not write .*clip\.gif.*the disk is full"):
        animate.video(counting_frames(num_steps=3, side=4)).save(out / "clip.mp4")
    assert list(out.iterdir()) == []


def test_every_ffmpeg_failure_is_reported(monkeypatch, tmp_path):
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'this is not ffmpeg' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setitem(matplotlib.rcParams, "animation.ffmpeg_path", str(fake))
    for _ in range(2):  # not only the first time in a session
        with pytest.warns(UserWarning, match="ffmpeg failed writing .*clip.mp4.*not ffmpeg"):
            path = animate.video(counting_frames(num_steps=3, side=4)).save(tmp_path / "clip.mp4")
        assert path.suffix == ".gif"
