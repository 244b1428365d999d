"""Shared fixtures: a small county with the baseline's per-capita parameters, for fast tests;
headless Chromium for the browser tests."""

import shutil
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
