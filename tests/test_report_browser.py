"""The report in a real browser: headless Chromium, network off, every figure drawn, both languages.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them when missing);
Selenium is pointed at ``/usr/bin/chromedriver`` so that Selenium Manager never downloads one.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowsim import report

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
XSS = "<script>alert(1)</script>"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not Path(DRIVER).is_file(),
    reason="headless Chromium not installed (Debian: apt-get install chromium chromium-driver; "
           ".ci/run does this)",
)

DRAWN = """
return [...document.querySelectorAll('.plotly-graph-div')].map(function (d) {
  return {id: d.id, svg: d.querySelectorAll('.main-svg').length,
          marks: d.querySelectorAll('g.trace, g.sankey, g.table').length,
          width: d.offsetWidth};
});
"""

BOXES = """
function box(e) {
  if (!e) { return null; }
  var r = e.getBoundingClientRect();
  return r.width && r.height ? {top: r.top, bottom: r.bottom} : null;
}
return [...document.querySelectorAll('.plotly-graph-div')].filter(d => d.offsetWidth > 0)
  .map(function (d) {
    return {id: d.id, title: box(d.querySelector('.gtitle')),
            menu: box(d.querySelector('.updatemenu-header-group')),
            plot: box(d.querySelector('.nsewdrag') || d.querySelector('g.sankey'))};
  });
"""


def assert_menus_clear(browser):
    """Each drop-down is drawn below its figure's title and above the plot, never over them."""
    boxes = browser.execute_script(BOXES)
    menus = [b for b in boxes if b["menu"]]
    assert len(menus) >= 5, boxes  # monthly, tiers, fund flow, referrals, map
    for b in menus:
        assert b["title"]["bottom"] <= b["menu"]["top"], b
        assert b["menu"]["bottom"] <= b["plot"]["top"], b


def small_yaml(path: Path, parent: str, name: str) -> Path:
    path.write_text(
        f"extends: {(ROOT / 'configs' / parent).as_posix()}\nname: '{name}'\n"
        "county:\n  synthetic:\n    population: {value: 20000}\n    villages: {value: 40}\n"
        "    townships: {value: 4}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compare_report(tmp_path_factory):
    """Report of ``flowsim compare`` (small baseline vs an XSS-named Weihai), both languages."""
    folder = tmp_path_factory.mktemp("browser")
    base = small_yaml(folder / "base.yaml", "baseline.yaml", "small baseline")
    reform = small_yaml(folder / "xss.yaml", "scenarios/weihai_2023.yaml", XSS)
    proc = subprocess.run(
        [sys.executable, "-m", "flowsim", "compare", str(base), str(reform), "--days", "370",
         "--replications", "2", "--workers", "1", "--out", str(folder / "compare")],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return report.write_report(folder / "compare", folder / "report.html")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        options.add_argument(arg)  # network off: no name resolves, every request hits a dead port
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def open_report(browser, path: Path, fragment: str = "") -> list[dict]:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(path.as_uri() + fragment)
    WebDriverWait(browser, 90).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    WebDriverWait(browser, 90).until(
        lambda d: all(f["svg"] > 0 for f in d.execute_script(DRAWN)))
    return browser.execute_script(DRAWN)


def test_every_figure_renders_offline_in_both_languages(browser, compare_report, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    page = compare_report.read_text("utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?https?:",
                         page)
    expected = set(re.findall(r'id="(fig-[a-z_]+-(?:zh|en))"', page))
    assert {"fig-differences-zh", "fig-map-en", "fig-fund_flow-zh"} <= expected

    figures = open_report(browser, compare_report)
    assert {f["id"] for f in figures} == expected
    for f in figures:  # every figure drawn: its SVG and its traces, Sankey or table
        assert f["svg"] > 0 and f["marks"] > 0, f
    assert all(f["width"] > 0 for f in figures if f["id"].endswith("-zh"))
    text = browser.find_element("tag name", "body").text
    assert "如何阅读" in text and "主要指标" in text and "How to read this" not in text
    assert XSS in text  # the scenario's name shows as text ...
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()
    injected = "//script[starts-with(normalize-space(.), 'alert(1)')]"
    assert not browser.find_elements("xpath", injected)  # ... never as a script element
    browser.set_window_size(1280, min(browser.execute_script(
        "return document.body.scrollHeight"), 16000))
    browser.save_screenshot(str(tmp_path / "report_zh.png"))
    assert_menus_clear(browser)

    browser.find_element("css selector", ".switch button[data-lang=en]").click()
    text = browser.find_element("tag name", "body").text
    assert "How to read this" in text and "Headline indicators" in text and "如何阅读" not in text
    widths = {f["id"]: f["width"] for f in browser.execute_script(DRAWN)}
    assert all(w > 0 for k, w in widths.items() if k.endswith("-en"))
    browser.save_screenshot(str(tmp_path / "report_en.png"))
    assert_menus_clear(browser)
    assert (tmp_path / "report_zh.png").stat().st_size > 10_000

    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [r for r in resources if r.startswith(("http:", "https:"))], resources
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


def test_english_only_report(browser, compare_report, tmp_path):
    path = report.write_report(compare_report.parent / "compare", tmp_path / "en.html",
                               lang="en")
    figures = open_report(browser, path)
    assert figures and all(f["svg"] > 0 and f["marks"] > 0 and f["width"] > 0 for f in figures)
    assert "Headline indicators" in browser.find_element("tag name", "body").text
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
