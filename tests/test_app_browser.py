"""``flowsim app`` in a real browser: the command serves the page on a free local port, headless
Chromium (network off) opens it, steps the model, moves the county inpatient-rate slider, steps
again, and sees the comparison and the figures change. Every request the page makes goes to
127.0.0.1, and the server fetches nothing from a CDN. Screenshots in English and Chinese at 800
and 1,400 pixels go to the test's tmp folder. The server is stopped whatever happens.
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import headless_chromium, needs_chromium

from flowsim import app

pytestmark = needs_chromium
ROOT = Path(__file__).resolve().parents[1]

LAID_OUT = """
var width = document.documentElement.clientWidth, problems = [];
var dashboard = document.querySelector('.flowsim-dashboard').clientWidth;
var wanted = dashboard >= arguments[0] ? Math.floor((dashboard - arguments[1]) / 2) : dashboard;
if (document.documentElement.scrollWidth > width + 1) { problems.push('page wider than window'); }
document.querySelectorAll('.js-plotly-plot').forEach(function (p) {
  var svg = p.querySelector('.main-svg'), box = p.getBoundingClientRect();
  if (!svg || Math.abs(+svg.getAttribute('width') - wanted) > 6) {
    problems.push('figure ' + (svg && svg.getAttribute('width')) + ' px wide, not ' + wanted);
  }
  if (box.right > width + 1) { problems.push('figure past the window'); }
});
document.querySelectorAll('.flowsim-table td, .flowsim-table th, h3').forEach(function (e) {
  if (e.scrollWidth > e.clientWidth + 1) { problems.push('text cut off: ' + e.textContent); }
});
return problems;
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """``flowsim app`` on a small county and a free port; stopped at the end, whatever happens."""
    scenario = tmp_path / "small.yaml"
    scenario.write_text(
        f"extends: {(ROOT / 'configs' / 'baseline.yaml').as_posix()}\nname: small\n"
        "county:\n  synthetic:\n    villages: {value: 12}\n    townships: {value: 2}\n",
        encoding="utf-8")
    port = free_port()
    log = (tmp_path / "server.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowsim", "app", str(scenario), "--population", "4000",
         "--lang", "en", "--port", str(port), "--out", str(tmp_path)],
        stdout=log, stderr=subprocess.STDOUT, text=True)
    address = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text("utf-8")
            try:
                with urllib.request.urlopen(address, timeout=5) as page:
                    if page.status == 200:
                        break
            except OSError:
                assert time.monotonic() < end, "the server did not answer within 60 s"
                time.sleep(0.3)
        yield address, tmp_path / "server.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def browser():
    driver = headless_chromium(loopback=True)
    try:
        yield driver
    finally:
        driver.quit()


def click(browser, label: str) -> bool:
    """Click the button labelled ``label`` (as a user would, even under the drawer's shade)."""
    return browser.execute_script(
        "var b = [...document.querySelectorAll('button')].find("
        "  b => b.textContent.trim().toLowerCase() === arguments[0]);"
        "if (b && !b.disabled) { b.click(); return true; } return false;", label.lower())


def headline(browser) -> str:
    found = browser.find_elements("css selector", ".flowsim-headline")
    return found[0].text if found else ""


def policy_trace(browser, kind: str, name: str) -> list:
    return browser.execute_script(
        "var p = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "var t = p && p.data.find(t => t.name === arguments[1] && t.line.dash === 'solid');"
        "return t ? Array.from(t.y) : [];", f".flowsim-figure-{kind}", name)


def requests_made(browser) -> list[str]:
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def screenshot(browser, path: Path, width: int) -> list[str]:
    """Lay the page out at ``width`` as tall as its content, check it, and save it."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(width, 1000)
    tall = browser.execute_script(
        "return Math.max(...[...document.querySelectorAll('.solara-autorouter-content,"
        " .v-navigation-drawer__content')].map(e => e.scrollHeight)) + 120")
    browser.set_window_size(width, min(tall, 8000))
    def problems(driver):
        return driver.execute_script(LAID_OUT, app.TWO_COLUMNS, app.GAP)

    WebDriverWait(browser, 30).until(lambda d: not problems(d))  # figures follow the width
    time.sleep(0.5)  # Plotly draws
    browser.save_screenshot(str(path))
    return problems(browser)


def test_the_app_steps_responds_to_a_slider_and_stays_offline(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    started = time.monotonic()
    address, server_log = server
    from selenium.common.exceptions import StaleElementReferenceException

    wait = WebDriverWait(browser, 60, poll_frequency=0.2,  # the page redraws under the test
                         ignored_exceptions=[StaleElementReferenceException])
    browser.get(address)
    wait.until(lambda d: click(d, "step"))
    assert "Policy levers" in browser.find_element("tag name", "body").text

    WebDriverWait(browser, 150, poll_frequency=0.5,  # each figure widget loads Plotly anew
                  ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: "month 1:" in headline(d)
        and len(d.find_elements("css selector", ".js-plotly-plot .main-svg")) >= 5)
    before = headline(browser)
    visits = wait.until(lambda d: policy_trace(d, "tiers", "county hospital"))
    assert "▲" not in before and "▼" not in before  # no lever moved: no difference

    slider = browser.find_element(
        "css selector", ".flowsim-lever-inpatient_rate_county .v-slider")
    ActionChains(browser).move_to_element_with_offset(
        slider, -slider.size["width"] // 2 + 2, 0).click().perform()  # the lowest rate, 40 %
    wait.until(lambda d: "inpatient rate, county hospitals (%): 40" in d.find_element(
        "tag name", "body").text)
    wait.until(lambda d: "▲" in headline(d) or "▼" in headline(d))  # rebuilt with the new rate
    assert headline(browser) != before
    assert policy_trace(browser, "tiers", "county hospital") != visits  # the figure changed

    wait.until(lambda d: click(d, "step"))
    wait.until(lambda d: "month 2:" in headline(d))
    assert len(policy_trace(browser, "tiers", "county hospital")) == 2

    problems = {}
    for lang, switch, check in (("en", "english", "Headline indicators"),
                                ("zh", "中文", "至今主要指标")):
        wait.until(lambda d, switch=switch: click(d, switch))  # in the sidebar or its drawer
        wait.until(lambda d, check=check: check in headline(d))
        for width in (1400, 800) if lang == "en" else (800, 1400):
            path = tmp_path / f"app_{lang}_{width}.png"
            problems[f"{lang} {width}"] = screenshot(browser, path, width)
    assert not any(problems.values()), problems

    local = (address, address.replace("http:", "ws:"), "data:", "blob:")
    assert not [url for url in requests_made(browser) if not url.startswith(local)]
    assert "Could not load URL" not in server_log.read_text("utf-8")  # no CDN fetch either
    print(f"browser test: {time.monotonic() - started:.0f} s after the server answered")
