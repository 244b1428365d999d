"""The explorer's page rendered with solara's own test utility (``solara.render``, as Mesa's tests
render SolaraViz): the lever controls are there, Mesa's Step draws the figures, a moved lever
changes the comparison, the language switch relabels the page, and "Save as scenario" writes a
file that ``flowsim run`` runs. No browser: the widgets are driven from Python, and the width
the browser would report (``Width``) is set by hand.
"""

import socket
import time
from pathlib import Path

import ipyvue
import ipyvuetify as v
import plotly.graph_objects as go
import pytest
import solara
import yaml

from flowsim import app
from flowsim.cli import main
from flowsim.config import load_scenario, value_on
from flowsim.explorer import LEVERS, app_baseline
from flowsim.labels import text

ROOT = Path(__file__).resolve().parents[1]
TINY = 3000


@pytest.fixture
def page(tmp_path):
    """The explorer on a 3,000-resident county inside solara's AppLayout (it holds the sidebar)."""
    baseline = app_baseline(None, TINY)

    @solara.component
    def Page():
        with solara.AppLayout():
            app.Explorer(baseline=baseline, base_file=ROOT / "configs" / "baseline.yaml",
                         out=tmp_path)

    app.lang.set("en")
    box, rc = solara.render(Page(), handle_error=False)
    yield rc, baseline
    rc.close()


def headline(rc) -> str:
    found = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
             if "flowsim-table" in w.unsafe_innerHTML]
    return found[0] if found else ""


def wait_for(condition, seconds: float = 60.0):
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def report_width(rc, pixels: int) -> None:
    """What the browser does when the dashboard is laid out: report its width."""
    widget, = [w for w in rc.find(ipyvue.VueTemplate).widgets if "width" in w.trait_names()]
    widget.width = pixels


def test_levers_step_figures_compare_language_and_save(page, tmp_path):
    rc, baseline = page
    for lever in LEVERS:  # one control per lever, labelled, in the sidebar
        control = rc.find(meta_lever=lever.name)
        control.assert_single()
        kind = {"percent": v.Slider, "flag": v.Switch, "choice": v.Select}[lever.kind]
        control.find(kind).assert_single()
        label = lever.label("en")
        assert control.find(label=label).widgets or control.find(
            children=[f"{label}: {round(100 * lever.value(baseline))}"]).widgets
    assert len(rc.find(v.Slider).widgets) == 3 + sum(lv.kind == "percent" for lv in LEVERS)
    assert not rc.find(go.FigureWidget).widgets

    rc.find(v.Btn, children=["Step"]).widget.click()
    report_width(rc, 1200)
    figures = rc.find(go.FigureWidget).widgets
    assert len(figures) == 5
    assert all(f.layout.width == (1200 - app.GAP) // 2 for f in figures)  # two in a row
    assert all(len(f.data) > 0 for f in figures)
    before = headline(rc)
    assert "month 1:" in before and "▲" not in before and "▼" not in before  # nothing moved

    county = rc.find(meta_lever="inpatient_rate_county").find(v.Slider).widget
    county.v_model = 45  # the county hospitals' inpatient rate from 70 % to 45 %
    wait_for(lambda: "▼" in headline(rc) or "▲" in headline(rc))  # rebuilt in a thread
    after = headline(rc)
    assert "month 1:" in after and after != before
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "month 2:" in headline(rc)
    assert rc.find(children=[text("app.gap", "en", points=35)]).widgets  # 80 − 45

    app.lang.set("zh")
    assert "至今主要指标" in headline(rc)
    assert rc.find(children=[text("app.not_started", "zh")]).widgets == []
    app.lang.set("en")

    name = rc.find(v.TextField, label=text("app.file_name", "en")).widget
    name.v_model = "cheaper.yaml"
    name.fire_event("focusout")  # what the browser sends when the field loses focus
    rc.find(v.Btn, children=[text("app.save", "en")]).widget.click()
    saved = tmp_path / "cheaper.yaml"
    assert yaml.safe_load(saved.read_text("utf-8"))["benefits"]["resident"]["inpatient"][
        "rate"]["value"] == {"county": 0.45}
    loaded = load_scenario(saved)
    assert value_on(loaded.benefits.resident.inpatient.rate.value.county,
                    loaded.start_date) == 0.45
    with pytest.raises(SystemExit) as done:
        main(["run", str(saved), "--days", "3", "--population", "2000"])
    assert done.value.code == 0
    rc.find(v.Btn, children=[text("app.save", "en")]).widget.click()  # again: refused
    assert rc.find(v.Alert, type="error").widgets


@pytest.mark.parametrize("args, says", [
    (["--lang", "fr"], "error: --lang = 'fr': zh or en"),
    (["--port", "0"], "error: --port = '0': a whole number from 1 to 65535"),
    (["--host", "nosuch.invalid"], "error: --host = 'nosuch.invalid': an address of this computer"),
    (["--population", "0"], "error: --population = '0': a whole number from 1"),
    (["nosuch.yaml"], "error: nosuch.yaml: file = 'nosuch.yaml'"),
])
def test_app_refuses_bad_arguments_in_one_line_before_serving(args, says, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["app", *args])
    assert refused.value.code == 2
    out, err = capsys.readouterr()
    assert err.startswith(says) and err.count("\n") == 1 and not out


def test_app_refuses_a_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as refused:
            main(["app", "--port", str(port)])
    assert refused.value.code == 2
    assert capsys.readouterr().err.startswith(f"error: --port = {port}: a port free on 127.0.0.1")
