"""The HTML report and the figures: contents per kind of results, escaping, offline, errors."""

import html
import re

import plotly.graph_objects as go
import plotly.offline
import pytest
from conftest import XSS, flowsim_cli, gap_sweep, small_yaml

from flowsim import figures, report
from flowsim.errors import InputError
from flowsim.experiments import REFERENCE, ExperimentResults
from flowsim.results import Results

RUN_FIGURES = ("monthly", "tiers", "fund_flow", "referrals", "map", "settlement", "equity")


def decoded(page: str) -> str:
    """The page with the \\uXXXX escapes of the figures' JSON decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def figure_ids(page: str) -> set[str]:
    return set(re.findall(r'id="fig-([a-z_]+)-(?:zh|en)"', page))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def compare_dir(folder):
    """``flowsim compare`` of a small baseline and Weihai (dated changes, 医共体) named XSS."""
    base = small_yaml(folder / "base.yaml", "baseline.yaml", "small baseline")
    reform = small_yaml(folder / "xss.yaml", "scenarios/weihai_2023.yaml", XSS)
    proc = flowsim_cli("compare", base, reform, "--days", 370, "--replications", 2,
                       "--workers", 1, "--out", folder / "compare")
    assert proc.returncode == 0, proc.stderr
    return folder / "compare"


@pytest.fixture(scope="module")
def run_dir(compare_dir):
    """The XSS-named run's folder, as ``Results.save`` wrote it for the comparison."""
    (found,) = [p for p in (compare_dir / "runs").glob("*/results")
                if Results.load(p).scenario == XSS]
    return found


@pytest.fixture(scope="module")
def sweep_dir(folder):
    """A two-point sweep (dose–response) on a tiny county, run through ``flowsim experiment``."""
    tiny = small_yaml(folder / "tiny.yaml", "baseline.yaml", "tiny", residents=5000)
    spec = gap_sweep(folder / "sweep.yaml", tiny, [0, 20])
    proc = flowsim_cli("experiment", spec, "--workers", 1, "--out", folder / "sweep")
    assert proc.returncode == 0, proc.stderr
    return folder / "sweep"


@pytest.fixture(scope="module")
def sensitivity_dir(folder, sweep_dir):
    """A Morris design with two trajectories over one lever, on the tiny county."""
    spec = folder / "sens.yaml"
    spec.write_text(
        f"name: sens\nbase: {(folder / 'tiny.yaml').as_posix()}\nscenarios:\n  - name: tiny\n"
        "sensitivity:\n  method: morris\n  trajectories: 2\n  levels: 4\n  levers:\n"
        "    choice.travel_per_hour.value: {range: [0.4, 1.6]}\n"
        "replications: 1\ndays: 30\nindicators: [grassroots_visit_share, oop_per_capita]\n",
        encoding="utf-8")
    proc = flowsim_cli("experiment", spec, "--workers", 1, "--out", folder / "sens")
    assert proc.returncode == 0, proc.stderr
    return folder / "sens"


@pytest.fixture(scope="module")
def run_page(run_dir, folder):
    return decoded(report.write_report(run_dir, folder / "run.html").read_text("utf-8"))


@pytest.fixture(scope="module")
def compare_page(compare_dir, folder):
    return decoded(report.write_report(compare_dir, folder / "compare.html").read_text("utf-8"))


def test_single_run_report_has_every_figure_in_both_languages(run_page):
    assert figure_ids(run_page) == set(RUN_FIGURES)
    for kind in RUN_FIGURES:
        assert f'id="fig-{kind}-zh"' in run_page and f'id="fig-{kind}-en"' in run_page
    assert "基层就诊率" in run_page and "grassroots visit share" in run_page
    assert "如何阅读" in run_page and "How to read this" in run_page
    assert "2023-07-01" in run_page  # the dated policy change is marked
    assert "县域内就诊率" in run_page and "村卫生室" in run_page


def test_comparison_report_shows_intervals_and_differences(compare_page):
    assert figure_ids(compare_page) == {*RUN_FIGURES, "differences"}
    assert "small baseline" in compare_page
    assert re.search(r"\d+\.\d+ %<br><small>\[\d+\.\d+, \d+\.\d+\]", compare_page)  # mean [CI]


def test_user_text_is_escaped(run_page, compare_page):
    for page in (run_page, compare_page):
        assert XSS not in page
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_is_self_contained(run_page, compare_page):
    for page in (run_page, compare_page):
        tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page)
        assert not [t for t in tags if re.search(r"(src|href)\s*=", t)], tags
        assert page.count(plotly.offline.get_plotlyjs()[:300]) == 1  # embedded once


def test_sweep_and_sensitivity_reports(sweep_dir, sensitivity_dir, folder):
    sweep = decoded(report.write_report(sweep_dir, folder / "sweep.html", lang="en").read_text())
    assert "dose_response" in figure_ids(sweep)
    assert "gap" in sweep and "Dose–response" in sweep
    sens = decoded(report.write_report(sensitivity_dir, folder / "sens.html").read_text())
    assert "sensitivity" in figure_ids(sens)
    assert "μ*" in sens


def test_one_language(run_dir, folder):
    en = decoded(report.write_report(run_dir, folder / "en.html", lang="en").read_text("utf-8"))
    zh = decoded(report.write_report(run_dir, folder / "zh.html", lang="zh").read_text("utf-8"))
    assert "grassroots visit share" in en and "-zh\"" not in en and 'class="l-zh"' not in en
    assert "基层就诊率" in zh and "-en\"" not in zh and "How to read this" not in zh
    assert '<html lang="en">' in en and '<html lang="zh-CN">' in zh


def test_sections_without_data_are_left_out(run_dir, folder):
    res = Results.load(run_dir)
    res.settlements = res.settlements.iloc[0:0]
    page = decoded(report.render(report.load(res), "en"))
    assert "fig-settlement" not in page and "year-end settlement" not in page
    assert "fig-map-en" in page


def test_sources_listed(run_page):
    assert "Scenario files and their sources" in run_page
    assert "003" in run_page or "Weihai" in run_page  # Weihai's clauses are cited
    assert "assumed" in run_page


def test_report_figure_gives_the_report_figures_of_a_run(run_dir):
    res = Results.load(run_dir)
    for kind in RUN_FIGURES:
        for lang in ("zh", "en"):
            fig = report.figure(res, kind, lang=lang)
            assert isinstance(fig, go.Figure) and len(fig.data) > 0, kind
    hover = report.figure(run_dir, "fund_flow", lang="zh").data[0].link.hovertemplate
    assert "万元" in hover and "%{value:,.1f}" in hover  # money in 万元 on the Chinese page
    with pytest.raises(ValueError, match="unknown figure kind"):
        report.figure(res, "pie")
    with pytest.raises(ValueError, match="unknown language"):
        report.figure(res, "map", lang="fr")
    with pytest.raises(ValueError, match="no 'differences' figure"):
        report.figure(res, "differences")  # a single run has no baseline


def test_partial_months_are_per_day_and_marked(run_dir, compare_dir):
    res = Results.load(run_dir)  # 370 days from 2023-01-01: January 2024 has 5 days
    tiers = figures.run_tiers(res)
    last = tiers[tiers.month == tiers.month.max()]
    assert set(last.days) == {5} and set(tiers[tiers.month == tiers.month.min()].days) == {31}
    for lang, note in (("en", "partial month: 5 days"), ("zh", "不完整月份：5 天")):
        fig = report.figure(res, "tiers", lang=lang)
        bar = fig.data[0]  # village clinics' visits
        village = last[(last.measure == "visits") & (last.tier == "village")].value.iloc[0]
        assert bar.y[-1] == pytest.approx(village / 5)  # a daily average, like full months
        assert note in bar.customdata[-1] and "partial" not in bar.customdata[0]
        assert ("per day" if lang == "en" else "日均") in fig.layout.title.text
        line = report.figure(res, "monthly", lang=lang).data[0]
        assert note in line.customdata[-1][2] and line.customdata[0][2] == ""
        assert line.marker.symbol[-1] == "circle-open" and line.marker.symbol[0] == "circle"
    monthly = report.load(compare_dir).tables["monthly"]  # experiments: days from saved runs
    assert set(monthly[monthly.month == monthly.month.max()].days) == {5}


def test_menus_sit_between_title_and_plot(compare_dir):
    data = report.load(compare_dir)
    for kind in ("monthly", "tiers", "fund_flow", "referrals", "map"):
        for lang in ("zh", "en"):
            fig = figures.draw(kind, data.tables[kind], lang, policy_changes=data.policy_changes)
            (menu,) = fig.layout.updatemenus
            height, top = fig.layout.height, fig.layout.margin.t
            plot = height - top - (fig.layout.margin.b or 80)
            menu_top = top - (menu.y - 1) * plot  # pixels from the figure's top
            title_top = (1 - fig.layout.title.y) * height
            assert fig.layout.title.yanchor == "top" and menu.yanchor == "top"
            assert title_top + 24 <= menu_top, kind  # the title's line, then the menu's
            assert menu_top + figures.MENU_HEIGHT <= top - 10, kind  # above the plot


def test_levels_are_an_html_table_with_every_full_label(run_page):
    section = run_page[run_page.index('<section id="headline"'):]
    section = section[:section.index("</section>")]
    assert "<table" in section and "go.Table" not in section
    for name in figures.HEADLINE:
        for lang in ("zh", "en"):
            assert figures.indicator_label(name, lang) in section, (name, lang)
    assert "n/a" in section and "two consecutive insurance years" in section  # cost growth


def test_bad_input_is_one_line_exit_2(tmp_path, run_dir):
    proc = flowsim_cli("report", tmp_path / "missing", "-o", tmp_path / "r.html")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "RESULTS_DIR" in proc.stderr and "no such folder" in proc.stderr
    cases = [
        ((tmp_path, tmp_path / "r.html"), {}, "results folder"),
        ((run_dir, tmp_path / "r.html"), {"lang": "fr"}, "--lang"),
        ((run_dir, tmp_path), {}, "--output"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(InputError, match=message):
            report.write_report(*args, **kwargs)
    assert not (tmp_path / "r.html").exists()


def test_failed_report_keeps_the_old_one(tmp_path, run_dir, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old report")

    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(report, "render", broken)
    with pytest.raises(RuntimeError):
        report.write_report(run_dir, target)
    with pytest.raises(InputError):
        report.write_report(tmp_path / "nothing", target)
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


def test_run_writes_a_report(tmp_path):
    scenario = small_yaml(tmp_path / "s.yaml", "baseline.yaml", "tiny", residents=5000)
    proc = flowsim_cli("run", scenario, "--days", 35, "--out", tmp_path / "o", "--report")
    assert proc.returncode == 0, proc.stderr
    page = decoded((tmp_path / "o" / "report.html").read_text("utf-8"))
    assert {"monthly", "map"} <= figure_ids(page) and '<section id="headline"' in page
    assert "fig-settlement" not in page  # no insurance year closed


def summary_of(page: str, lang: str) -> str:
    """The decision summary's block in ``lang``."""
    section = page[page.index('<section id="summary"'):]
    section = section[:section.index("</section>")]
    return html.unescape(section[section.index(f'<div class="l-{lang}"'):])


def test_comparison_opens_on_what_changes_and_what_it_does(compare_page):
    assert compare_page.index('<section id="summary"') < compare_page.index(
        '<section id="headline"')
    en, zh = summary_of(compare_page, "en"), summary_of(compare_page, "zh")
    assert "What it changes from the baseline" in en and "相对基线的改变" in zh
    # Weihai's inpatient rate, in words, from → to, dated, with its clause
    assert "urban-rural resident insurance, inpatient: reimbursement rate" in en
    assert "城乡居民医保住院报销比例" in zh and "自2023年7月1日起" in en
    # 370 days from 2023-01-01: 1 July 2023 to 5 January 2024 is 184 + 5 = 189 days
    assert "in force for 189 of the run's 370 days (51 %)" in en
    assert "take effect after the run ends (2024-01-05)" in en  # the 2025 outpatient target
    for name in ("fund spending per capita", "fund balance per capita",
                 "out-of-pocket per capita", "catastrophic health expenditure incidence",
                 "grassroots visit share", "in-county share of fund spending",
                 "serious episodes not admitted"):
        assert name in en, name
    assert "人均基金结余" in zh and "灾难性卫生支出发生率" in zh
    assert re.search(r"(better|worse) for (patients|the fund|the tiered-care goal)"
                     r"|no clear change", en)
    assert "lengthens 两病 prescriptions" in en and "illness episodes treated per capita" in en


def test_sweep_differences_start_from_the_scenario_without_the_lever(sweep_dir):
    exp = ExperimentResults.load(sweep_dir)
    first = exp.meta["variants"][0]
    assert first["point"] == REFERENCE and first["variant"] == "tiny"
    assert set(exp.differences.baseline) == {"tiny"}
    data = report.load(sweep_dir)
    assert set(data.tables["dose_response"].gap) == {0.0, 20.0}
    assert "differences" not in data.tables  # the dose–response figure shows them
    fig = report.figure(sweep_dir, "dose_response", lang="en")
    assert fig.layout.xaxis.title.text == "gap"  # no label in the file: the lever's name
    assert list(fig.layout.xaxis.tickvals) == [0.0, 20.0]
