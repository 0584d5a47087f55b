"""Benchmark: a 200-step rate-coded MNIST digit as an inline notebook video, three ways.

1. snnTorch: ``spikeplot.animator`` then ``to_html5_video()`` (as its docs show);
2. snnlab's matplotlib path: ``animate.spikes(...).to_html()``;
3. snnlab's fast path: ``animate.video(...).to_html()`` (raw frames piped to ffmpeg).

Each render is timed whole (figure, frames, encoding, base64 HTML), several times; the table
shows medians and the size of the HTML a notebook would store. Every video is decoded again to
check it really holds 200 frames. Target: the fast path >= 10x faster than snnTorch, and smaller.

Run:  SNNLAB_DATA_DIR=/path/with/MNIST python bench/animation.py [--repeats 5]
The table is printed and replaces its section of bench/results.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import imageio_ffmpeg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import snntorch.spikeplot as splt  # noqa: E402
import torch  # noqa: E402
from sections import replace_section  # noqa: E402  (bench/sections.py)

from snnlab import animate, data  # noqa: E402

NUM_STEPS = 200


def rate_coded_digit(seed: int = 0) -> tuple[torch.Tensor, int]:
    """The first MNIST test digit as spikes [200, 28, 28]: pixel p fires with probability p."""
    image, label = data.mnist(train=False)[0]
    generator = torch.Generator().manual_seed(seed)
    spikes = (torch.rand(NUM_STEPS, 28, 28, generator=generator) < image[0]).float()
    return spikes, label


def snntorch_html(spikes: torch.Tensor) -> str:
    fig, ax = plt.subplots()
    animation = splt.animator(spikes, fig, ax)
    html = animation.to_html5_video()
    plt.close(fig)
    return html


def decoded_video(html: str) -> tuple[int, tuple[int, int]]:
    """Frames and (width, height) of the MP4 embedded in ``html``."""
    data_uri = re.search(r"data:video/mp4;base64,([A-Za-z0-9+/=\s]+)", html).group(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "video.mp4"
        path.write_bytes(base64.b64decode(data_uri))
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
        reader = imageio_ffmpeg.read_frames(str(path))
        size = next(reader)["size"]
        reader.close()
    return frames, tuple(size)


def measure(render: Callable[[], str], repeats: int) -> tuple[list[float], str]:
    """Seconds of each whole render, and the HTML of the last one."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        html = render()
        seconds.append(time.perf_counter() - start)
    return seconds, html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="renders per method (median)")
    args = parser.parse_args()

    spikes, label = rate_coded_digit()
    methods = {
        "snnTorch animator + to_html5_video": lambda: snntorch_html(spikes),
        "snnlab animate.spikes (matplotlib)": lambda: animate.spikes(spikes).to_html(),
        "snnlab animate.video (fast path)": lambda: animate.video(spikes).to_html(),
    }
    rows = []
    for name, render in methods.items():
        seconds, html = measure(render, args.repeats)
        frames, size = decoded_video(html)
        rows.append((name, statistics.median(seconds), min(seconds), len(html), frames, size))
        print(f"{name}: median {statistics.median(seconds):.3f} s, {len(html):,} bytes", flush=True)

    reference_seconds, reference_bytes = rows[0][1], rows[0][3]
    lines = [
        f"## Animation: 200-step rate-coded MNIST digit ({label}), inline HTML video",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end, {args.repeats} repeats, torch {torch.__version__}, "
        f"matplotlib {matplotlib.__version__}, ffmpeg from imageio-ffmpeg "
        f"{imageio_ffmpeg.__version__}.",
        "",
        "| method | median s | min s | speed-up | HTML bytes | vs snnTorch size "
        "| frames | video size |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, median, fastest, size_bytes, frames, (width, height) in rows:
        lines.append(f"| {name} | {median:.3f} | {fastest:.3f} | {reference_seconds / median:.1f}x "
                     f"| {size_bytes:,} | {size_bytes / reference_bytes:.2f}x | {frames} "
                     f"| {width}x{height} |")
    fast_speedup = reference_seconds / rows[2][1]
    verdict = ("met" if fast_speedup >= 10 and rows[2][3] < reference_bytes else "NOT met")
    lines += ["", f"Target (fast path >= 10x faster than snnTorch, and smaller): {verdict} "
              f"({fast_speedup:.1f}x, {rows[2][3]:,} vs {reference_bytes:,} bytes).", ""]
    table = "\n".join(lines)
    print("\n" + table)
    replace_section("Animation", table)


if __name__ == "__main__":
    main()
