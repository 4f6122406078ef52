"""The HTML report in a real browser: headless Chromium opens report.html offline.

Checks: no console message at all (a JS error or warning logs one), every chart drawn (plotly
puts a `plot-container` in each chart's div once its script ran), every image an embedded data
URI, and a screenshot that is not blank. Skipped with the reason where Chromium is missing,
except under CI=true, where `.ci/run` installs Debian's `chromium` and a missing browser fails
(unless `.ci/run` could not reach the package archive: it says so in LSTMEXP_BROWSER_SKIP).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lstmexp.report.run import report_study
from tests.report_studies import grid_trials, make_study, make_trial

BROWSERS = ("chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", "--window-size=1280,2400")
CONSOLE = re.compile(r"CONSOLE[^\]]*\]\s*(.*)")


def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        reason = os.environ.get("LSTMEXP_BROWSER_SKIP")  # set by .ci/run when apt could not install it
        if reason:
            pytest.skip(reason)
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing under CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium not installed (Debian: apt-get install chromium); the browser test needs it")
    return found


def run_browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder}/b.db"
    trials = grid_trials(lambda b, t, h: 100 * b / t, per_cell=1)
    trials.append(make_trial(64, 8, 16, samples_per_s=3.0, contended=True, contention_reason="load 3 on 2 cores"))
    make_study(trials, storage=url)
    report_study(url, [], "html", folder / "out")
    return folder / "out" / "report.html"


def test_the_report_opens_in_chromium_without_console_errors_and_draws_every_chart(page, tmp_path):
    binary = browser()
    done = run_browser(binary, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    messages = CONSOLE.findall(done.stderr)
    assert not messages, messages
    source = page.read_text()
    charts = source.count("Plotly.newPlot")
    assert charts == 5
    dom = done.stdout
    assert dom.count('class="plot-container') == charts  # every chart's script ran and drew it
    assert dom.count('class="main-svg"') >= charts
    images = re.findall(r"<img[^>]*src=\"([^\"]*)\"", dom)
    assert all(src.startswith("data:") for src in images), images  # nothing fetched: works offline


def test_the_screenshot_is_not_blank(page, tmp_path):
    from PIL import Image

    binary = browser()
    shot = tmp_path / "shot.png"
    done = run_browser(binary, tmp_path / "profile", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text and charts: many colours (None: more than 65,536)
