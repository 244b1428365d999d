"""The report in a real browser: headless Chromium, network off, at 800 and 1,400 pixels, in
Chinese and English, for a comparison, a sweep and a single run.

Every case checks the page with the boxes the browser laid out: no text overflows its cell or
heading, nothing reaches past the window, every figure's SVG text stays inside its figure, no
two SVG texts overlap, tick labels stay off the plots, the Plotly toolbar covers no text, and
drop-downs sit above their plots. A
screenshot of each case is saved in the test's tmp folder.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them when missing);
Selenium is pointed at ``/usr/bin/chromedriver`` so that Selenium Manager never downloads one.
"""

import re
from pathlib import Path

import pytest
from conftest import XSS, flowsim_cli, gap_sweep, headless_chromium, needs_chromium, small_yaml

from flowsim import report

WIDTHS = (800, 1400)

pytestmark = needs_chromium

DRAWN = """
return [...document.querySelectorAll('.plotly-graph-div')].map(function (d) {
  return {id: d.id, svg: d.querySelectorAll('.main-svg').length,
          marks: d.querySelectorAll('g.trace, g.sankey').length,
          width: d.offsetWidth};
});
"""

RELAYOUT = """
var done = arguments[arguments.length - 1];
var shown = [...document.querySelectorAll('.plotly-graph-div')].filter(d => d.offsetWidth > 0);
Promise.all(shown.map(d => Plotly.Plots.resize(d))).then(() => done(shown.length));
"""

LAYOUT_PROBLEMS = """
var problems = [];
var width = document.documentElement.clientWidth;
function box(e) { return e.getBoundingClientRect(); }
function shown(e) { var r = box(e); return r.width > 0 && r.height > 0; }
function name(e) { return (e.textContent || '').trim().slice(0, 50); }
if (document.documentElement.scrollWidth > width + 1) {
  problems.push('page wider than the window: ' + document.documentElement.scrollWidth);
}
document.querySelectorAll('table, td, th, h1, h2, h3, h4, p, li, summary').forEach(function (e) {
  if (!shown(e)) { return; }
  if (e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'TABLE') {
    problems.push('text cut off (' + e.scrollWidth + ' > ' + e.clientWidth + '): ' + name(e));
  }
  if (box(e).right > width + 1) { problems.push('past the window: ' + name(e)); }
});
function overlap(a, b) {
  return Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2 &&
         Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2;
}
document.querySelectorAll('.plotly-graph-div').forEach(function (div) {
  if (!shown(div)) { return; }
  var frame = box(div);
  if (frame.right > width + 1) { problems.push(div.id + ' past the window'); }
  var plots = [...div.querySelectorAll('.nsewdrag')].map(box);
  var texts = [...div.querySelectorAll('svg text')].filter(
    t => shown(t) && name(t) && !t.closest('.hoverlayer'));
  texts.forEach(function (t) {
    var r = box(t);
    if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1 ||
        r.bottom > frame.bottom + 1) {
      problems.push(div.id + ': text outside the figure: ' + name(t));
    }
    if (t.closest('.xtick, .ytick, .g-xtitle, .g-ytitle, .legend') &&
        plots.some(p => overlap(r, p))) {
      problems.push(div.id + ': label over a plot: ' + name(t));
    }
  });
  for (var i = 0; i < texts.length; i++) {
    for (var j = i + 1; j < texts.length; j++) {
      if (texts[i].contains(texts[j]) || texts[j].contains(texts[i])) { continue; }
      if (overlap(box(texts[i]), box(texts[j]))) {
        problems.push(div.id + ': "' + name(texts[i]) + '" overlaps "' + name(texts[j]) + '"');
      }
    }
  }
  var bar = div.querySelector('.modebar');
  if (bar && shown(bar)) {
    texts.forEach(function (t) {
      if (overlap(box(t), box(bar))) { problems.push(div.id + ': toolbar over "' + name(t) + '"'); }
    });
  }
  var menu = div.querySelector('.updatemenu-header-group');
  if (menu && plots.length && box(menu).bottom > Math.min(...plots.map(p => p.top)) + 1) {
    problems.push(div.id + ': drop-down over the plot');
  }
});
return problems;
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The three kinds of report, each written once in both languages."""
    folder = tmp_path_factory.mktemp("browser")
    base = small_yaml(folder / "base.yaml", "baseline.yaml", "small baseline")
    weihai = small_yaml(folder / "xss.yaml", "scenarios/weihai_2023.yaml", XSS)
    ningxia = small_yaml(folder / "nx.yaml", "scenarios/ningxia_2023_103.yaml", "ningxia")
    flowsim_cli("compare", base, weihai, ningxia, "--days", 370, "--replications", 2,
                "--workers", 1, "--out", folder / "compare", check=True)
    tiny = small_yaml(folder / "tiny.yaml", "baseline.yaml", "tiny", residents=5000)
    spec = gap_sweep(folder / "sweep.yaml", tiny, [0, 10, 20, 30], "gap_points",
                     "    label: {en: township–county gap, zh: 乡县住院报销比例差}\n"
                     "    unit: points\n")
    flowsim_cli("experiment", spec, "--workers", 1, "--out", folder / "sweep", check=True)
    (run,) = [p for p in (folder / "compare" / "runs").glob("*/results")
              if XSS in (p / "run.json").read_text("utf-8")]
    return {"compare": report.write_report(folder / "compare", folder / "compare.html"),
            "sweep": report.write_report(folder / "sweep", folder / "sweep.html"),
            "run": report.write_report(run, folder / "run.html")}


@pytest.fixture(scope="module")
def browser():
    driver = headless_chromium()
    yield driver
    driver.quit()


def open_report(browser, path: Path, lang: str, width: int) -> list[dict]:
    """Open the report, pick the language, size the window and wait for the figures' layout."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(width, 1000)
    browser.get("about:blank")
    browser.get(path.as_uri() + ("#en" if lang == "en" else ""))
    WebDriverWait(browser, 90).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    WebDriverWait(browser, 90).until(
        lambda d: all(f["svg"] > 0 for f in d.execute_script(DRAWN)))
    browser.find_element("css selector", f".switch button[data-lang={lang}]").click()
    browser.execute_async_script(RELAYOUT)
    return browser.execute_script(DRAWN)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ["compare", "sweep", "run"])
def test_report_reads_at_both_widths_in_both_languages(browser, pages, tmp_path, kind, width,
                                                       lang):
    figures = open_report(browser, pages[kind], lang, width)
    shown = [f for f in figures if f["id"].endswith(f"-{lang}")]
    assert shown and all(f["svg"] > 0 and f["marks"] > 0 and f["width"] > 0 for f in shown)
    assert all(f["width"] == 0 for f in figures if not f["id"].endswith(f"-{lang}"))
    problems = browser.execute_script(LAYOUT_PROBLEMS)
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(width, min(height + 50, 16000))
    browser.execute_async_script(RELAYOUT)
    browser.save_screenshot(str(tmp_path / f"{kind}_{lang}_{width}.png"))
    assert not problems, f"{kind} {lang} {width}px: " + "; ".join(problems[:12])
    text = browser.find_element("tag name", "body").text
    other = "How to read this" if lang == "zh" else "如何阅读"
    assert other not in text  # one language shown
    if kind != "run":
        summary = "摘要" if lang == "zh" else "Summary"
        first = browser.find_element("css selector", "section").text
        assert summary in first  # the page opens on the decision summary
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_summary_comes_first_and_answers_the_fund_question(browser, pages):
    open_report(browser, pages["compare"], "en", 1400)
    sections = browser.execute_script(
        "return [...document.querySelectorAll('section')].map(s => s.id)")
    assert sections[:2] == ["summary", "headline"]
    summary = browser.find_element("id", "summary").text
    for words in ("What it changes from the baseline", "Key outcomes",
                  "fund spending per capita", "fund balance per capita",
                  "out-of-pocket per capita", "in force for"):
        assert words in summary, words
    assert "deductible on an upward referral inside the county" in summary  # Ningxia, in words
    sweep = open_report(browser, pages["sweep"], "en", 1400)
    assert [f["id"] for f in sweep if f["id"].endswith("-en")][0] == "fig-dose_response-en"
    axis = browser.execute_script(
        "return document.querySelector('#fig-dose_response-en .g-xtitle').textContent")
    assert axis == "township–county gap (points)"
    ticks = browser.execute_script(
        "return [...document.querySelectorAll('#fig-dose_response-en .ytick text')]"
        ".map(t => t.textContent)")
    assert len(ticks) == len(set(ticks)) > 2  # ticks that differ


def test_report_is_offline_and_escapes_user_text(browser, pages):
    from selenium.common.exceptions import NoAlertPresentException

    page = pages["compare"].read_text("utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?https?:",
                         page)
    open_report(browser, pages["compare"], "zh", 1400)
    assert XSS in browser.find_element("tag name", "body").text  # shown as text ...
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()
    injected = "//script[starts-with(normalize-space(.), 'alert(1)')]"
    assert not browser.find_elements("xpath", injected)  # ... never as a script element
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert not [r for r in resources if r.startswith(("http:", "https:"))], resources
