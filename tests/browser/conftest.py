"""A real JupyterLab and a real headless Chromium, for tests that use the course as a student does.

- ``chromium``: the system browser (found like ``snnlab.handout`` finds it); the tests are
  skipped, with the reason, only when there is none.
- ``jupyterlab``: a JupyterLab server on 127.0.0.1, a free port and a random token, serving a
  scratch copy of the course (so running cells never writes outputs into the repository), with
  SNNLAB_QUICK=1 for its kernels. It is always stopped, even when a test fails.
- ``page``: a fresh browser page. Playwright drives the system Chromium; it downloads nothing.
- ``artifacts``: the folder for screenshots (each failure's, and the tests' own), in pytest's
  temporary folder, never in the checkout: ``/tmp/pytest-of-$USER/pytest-current/
  test-artifacts/`` after a run (pytest keeps the last three runs' folders).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from snnlab.course.handout import HandoutError, find_chromium

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # seconds for JupyterLab to answer
STOP_TIMEOUT = 15  # seconds for it to shut down (and stop its kernels) before it is killed

# JupyterLab settings for the run: every cell in the page (no windowing, so every output can be
# found), and no news or update checks (no network here).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the scratch copy it serves
    log: Path

    def open_url(self, relative: str) -> str:
        # reset: a fresh workspace, so tabs a previous test opened are not restored beside it
        return f"{self.url}/lab/tree/{relative}?reset&token={self.token}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (JupyterLab then shuts its kernels down), then SIGKILL for anything left in the
    process group this fixture started."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        return find_chromium()
    except HandoutError as error:
        pytest.skip(f"no Chromium for the browser tests: {error}")


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "course"
    root.mkdir()
    for folder in ("notebooks", "assets"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(REPO / "tests" / "fixtures", root / "fixtures")
    settings = base / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))

    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, SNNLAB_QUICK="1", JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env.pop("MPLBACKEND", None)  # CI sets Agg for its own plots; kernels draw inline
    shared_data = REPO.parent / "shared" / "data"
    if "SNNLAB_DATA_DIR" not in env and shared_data.is_dir():
        env["SNNLAB_DATA_DIR"] = str(shared_data)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log = base / "jupyterlab.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{lab.log_tail()}")
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n"
                                f"{lab.log_tail()}")
                time.sleep(0.5)
        yield lab
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser(chromium):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright for Python: pip install playwright "
                    "(it drives the system Chromium; do not run `playwright install`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, timeout=60_000,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where screenshots go: pytest's temporary folder for this run, not the checkout."""
    return tmp_path_factory.mktemp("test-artifacts", numbered=False)


@pytest.fixture
def page(browser, request, artifacts):
    """A fresh page (1400x1000); on failure its screenshot goes to ``artifacts``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            name = request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
            page.screenshot(path=str(artifacts / f"{name}-failure.png"), full_page=False)
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so ``page`` can tell that the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
