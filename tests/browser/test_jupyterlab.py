"""The course in a real browser: JupyterLab runs a lesson, and its explorer panel responds.

Each test opens a notebook in JupyterLab (headless Chromium), runs all cells in quick mode from
the Run menu, waits for the kernel to go idle, checks that no output is an error, then moves
one slider of the lesson's explorer with the keyboard and checks that the panel's plot is
redrawn. Screenshots of the panel before and after go to the ``artifacts`` folder, in pytest's
temporary folder (``/tmp/pytest-of-$USER/pytest-current/test-artifacts/``).

The lessons are the student edition, as a student opens them: no exercise is filled in, so
their checks print "not implemented yet" (an ordinary output), and nothing may fail. The toy
notebook in tests/fixtures has an equivalent panel, so a failure there points at the harness
(JupyterLab, widgets, the browser), and a failure on a lesson at the lesson.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

RUN_ALL_TIMEOUT = 300  # seconds for "Run All Cells" in quick mode (a guard against hangs;
# quick mode takes about 15 s on an idle 2-core CPU, several times that on a busy one)
REDRAW_TIMEOUT = 30  # seconds for the plot to change after the slider moves

STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'  # errors and warnings, in Lab 4

# True when every code cell has run (a number in its prompt) or an error output has appeared,
# and the kernel is idle.
FINISHED_JS = """() => {
  const status = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                        + '.jp-Notebook-ExecutionIndicator');
  if (!status || status.getAttribute('data-status') !== 'idle') return false;
  const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                                + '.jp-CodeCell .jp-InputPrompt')];
  const done = prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
  return done || document.querySelector('STDERR') !== null;
}""".replace("STDERR", STDERR.replace("'", "\\'"))

# The src of every image in the output that holds the slider (the panel's live plot).
PANEL_IMAGES_JS = """slider => {
  const output = slider.closest('.jp-OutputArea-child');
  return [...output.querySelectorAll('img')].map(img => img.src);
}"""

NOTEBOOKS = [  # (notebook, the label of the slider to move)
    pytest.param("fixtures/01_toy_lesson.ipynb", r"^(beta|β)$", id="toy_panel"),
    pytest.param("notebooks/02_lif_neuron.ipynb", r"^beta$", id="02_lif_neuron"),
    pytest.param("notebooks/07_event_digits.ipynb", r"^threshold κ$", id="07_event_digits"),
]


def wait_until(condition, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@pytest.mark.parametrize("notebook, slider_label", NOTEBOOKS)
def test_lesson_runs_and_a_slider_redraws_the_plot(jupyterlab, page, artifacts, notebook,
                                                   slider_label):
    if not (jupyterlab.root / notebook).is_file():
        pytest.fail(f"{notebook} is missing: the browser test runs its explorer")
    stem = Path(notebook).stem

    page.goto(jupyterlab.open_url(notebook))
    # The status bar says "Python 3 (ipykernel) | Idle" once the kernel is connected and ready
    # (the toolbar's indicator already says idle while the kernel is still unknown).
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).wait_for(
        timeout=60_000)

    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.locator(".jp-CodeCell .jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]")).first \
        .wait_for(timeout=20_000)  # the cells are queued: the run has started
    page.wait_for_function(FINISHED_JS, timeout=RUN_ALL_TIMEOUT * 1000, polling=500)

    errors = page.locator(f".jp-OutputArea-output{STDERR}").all_inner_texts()
    assert errors == [], f"{notebook} printed errors or warnings:\n" + "\n---\n".join(errors)
    unrun = [p for p in page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
             if not re.search(r"\[\d+\]", p)]
    assert unrun == [], f"{len(unrun)} code cells did not run"

    label = page.locator(".widget-label", has_text=re.compile(slider_label))
    slider = page.locator(".widget-hslider", has=label).first
    slider.scroll_into_view_if_needed()
    panel = slider.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-child')][1]")
    handle = slider.locator(".noUi-handle").first
    before = wait_until(lambda: slider.evaluate(PANEL_IMAGES_JS), 30, "the panel's plot")
    readout = slider.locator(".widget-readout")  # the number shown beside the slider
    start_value = readout.inner_text()
    panel.screenshot(path=str(artifacts / f"{stem}-slider-before.png"))

    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    wait_until(lambda: readout.inner_text() != start_value, 10, "the slider to move")
    after = wait_until(
        lambda: (images := slider.evaluate(PANEL_IMAGES_JS)) != before and images and images,
        REDRAW_TIMEOUT, "the plot to change after moving the slider",
    )
    page.wait_for_timeout(300)  # let the new image decode before the screenshot
    panel.screenshot(path=str(artifacts / f"{stem}-slider-after.png"))
    assert len(after) == len(before)
