"""Shared fixtures: a small county with the baseline's per-capita parameters, for fast tests;
headless Chromium for the browser tests."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowsim.config import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = {
    "county.synthetic.population.value": 20000,
    "county.synthetic.villages.value": 40,
    "county.synthetic.townships.value": 4,
}
RULES_OFF = {f"providers.{name}_rule.value": False
             for name in ("length_of_stay", "transfer", "admission", "township_referral")}
"""Every provider decision rule off: the fixed responses of ``responses.*`` (docs/providers.md)."""
XSS = "<script>alert(1)</script>"
"""A scenario name the reports must show as text, never run."""


def small_yaml(path: Path, parent: str, name: str, residents: int = 20000) -> Path:
    """A scenario extending ``configs/<parent>`` on a small county."""
    villages, townships = (40, 4) if residents >= 20000 else (12, 2)
    path.write_text(
        f"extends: {(ROOT / 'configs' / parent).as_posix()}\nname: '{name}'\n"
        f"county:\n  synthetic:\n    population: {{value: {residents}}}\n"
        f"    villages: {{value: {villages}}}\n    townships: {{value: {townships}}}\n",
        encoding="utf-8")
    return path


def gap_sweep(path: Path, base: Path, values: list[int], lever: str = "gap",
              described: str = "") -> Path:
    """An experiment sweeping the township–county inpatient gap (points) over ``values``.

    The county rate is 0.80 − ``lever`` / 100; ``described``: the lever's label and unit lines.
    """
    path.write_text(
        f"name: gap\nbase: {base.as_posix()}\nscenarios:\n  - name: tiny\nsweep:\n"
        f"  {lever}:\n{described}    values: {values}\n    set:\n"
        f"      benefits.resident.inpatient.rate.value.county: '0.80 - {lever} / 100'\n"
        "replications: 2\ndays: 40\n", encoding="utf-8")
    return path


def flowsim_cli(*args, check: bool = False) -> subprocess.CompletedProcess:
    """``python -m flowsim ARGS`` in a subprocess; with ``check``, it must succeed."""
    proc = subprocess.run([sys.executable, "-m", "flowsim", *map(str, args)],
                          capture_output=True, text=True)
    assert not check or proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="session")
def rules_off():
    """Overrides that switch every provider decision rule off (``RULES_OFF``)."""
    return dict(RULES_OFF)


@pytest.fixture(scope="session")
def baseline():
    """The shipped default county scenario."""
    return load_scenario(ROOT / "configs" / "baseline.yaml")


@pytest.fixture(scope="session")
def small(baseline):
    """Baseline rules and behaviour on a 20,000-resident county."""
    return baseline.with_overrides(SMALL)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or not Path(CHROMEDRIVER).is_file(),
    reason="headless Chromium not installed (Debian: apt-get install chromium chromium-driver; "
           ".ci/run does this)",
)
"""Skip a browser test where Debian's Chromium and its driver are missing (Selenium is pointed
at ``/usr/bin/chromedriver`` so that Selenium Manager never downloads one)."""


def headless_chromium(*, loopback: bool = False):
    """Headless Chromium with the network off: no name resolves and every request goes to a
    dead proxy, except, with ``loopback``, those to 127.0.0.1 (a server the test started).

    The performance log records every request the page makes (``Network.*`` events).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    rules = "MAP * ~NOTFOUND" + (", EXCLUDE 127.0.0.1" if loopback else "")
    bypass = "127.0.0.1" if loopback else "<-loopback>"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900", f"--host-resolver-rules={rules}",
                "--proxy-server=127.0.0.1:9", f"--proxy-bypass-list={bypass}",
                "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    return driver
