"""The county medical community's global budget (鲁医保发〔2024〕39号 二(二)–(四)) in the model."""

import pytest

import flowsim
from flowsim.domain import Tier

BUDGET = {"community.global_budget.value": True}


def fund_paid(res, tiers):
    d = res.daily
    d = d[(d.counter == "money") & (d.measure == "fund_paid") & d.tier.isin(tiers)]
    return d.value.sum()


@pytest.fixture(scope="module")
def two_years(small):
    return flowsim.run(small.with_overrides(BUDGET), days=731, seed=2)


def test_first_year_budget_and_spending(two_years, small):
    first = two_years.settlements.iloc[0]
    resident, employee = two_years.meta["members_by_scheme"]
    # budget = Σ per-capita standard × served population (1050 / 1520 yuan per member-year)
    assert first.budget == pytest.approx(1050 * resident + 1520 * employee)
    year = two_years.daily[two_years.daily.date.dt.year == 2023]
    paid = year[(year.counter == "money") & (year.measure == "fund_paid")].value.sum()
    # out-of-county spending counts against the budget (001 二(二))
    assert first.spent == pytest.approx(paid)
    assert first.surplus == pytest.approx(max(first.budget - first.spent, 0))
    assert first.fund_extra == pytest.approx(first.community_kept - first.community_bears)
    assert first.prepayment == pytest.approx(first.budget / 12)  # about one month (二(四))


def test_budget_is_not_lowered_and_growth_is_capped(two_years):
    first, second = two_years.settlements.iloc[0], two_years.settlements.iloc[1]
    assert (first.days, second.days) == (365, 366)  # 2024 is a leap year
    # contributions do not grow, so revenue growth is 0: the budget per day stays where it was
    assert second.budget / 366 == pytest.approx(first.budget / 365)


def test_overrun_is_shared_and_beyond_the_limit_borne_by_the_community(small):
    res = flowsim.run(
        small.with_overrides(
            {**BUDGET, "community.per_capita_standard.value": {"resident": 500, "employee": 2000}}
        ),
        days=365,
        seed=2,
    )
    row = res.settlements.iloc[0]
    assert row.overrun > 0.05 * row.budget  # spending far above a low budget
    reasonable = 0.05 * row.budget
    # the fund bears 50 % of the reasonable overrun; the community the rest and all beyond it
    assert row.community_bears == pytest.approx(0.5 * reasonable + row.overrun - reasonable)
    assert row.fund_extra == pytest.approx(-row.community_bears)
    assert row.community_kept == 0 and row.reinvested == 0


def test_retained_surplus_is_reinvested_in_grassroots_quality(small):
    m = flowsim.CountyModel(small.with_overrides(BUDGET), seed=2)
    before = m.facilities.quality.copy()
    m.run_for(365)
    row = m.settlements.community.settlements[0]
    assert row["surplus"] > 0 and row["reinvested"] == pytest.approx(0.5 * row["community_kept"])
    # 0.001 quality points per yuan reinvested per resident of the county
    gain = 0.001 * row["reinvested"] / len(m.residents)
    assert m.facilities.quality[Tier.TOWNSHIP] == pytest.approx(before[Tier.TOWNSHIP] + gain)
    assert m.facilities.quality[Tier.COUNTY] == before[Tier.COUNTY]


def test_fund_balance_counts_the_settlement(two_years):
    revenue = two_years.daily[two_years.daily.counter == "fund_revenue"].value.sum()
    spending = fund_paid(two_years, ["village", "township", "county", "out_of_county"])
    extra = two_years.settlements.fund_extra.sum()
    residents = two_years.meta["residents"]
    assert two_years.indicator("fund_balance_per_capita") == pytest.approx(
        (revenue - spending - extra) / residents * 365 / 731
    )


def test_global_budget_lowers_out_of_county_spending_in_a_paired_run(baseline):
    # the lead hospital keeps patients it would transfer out (docs/providers.md, rule 3);
    # a 100,000-resident county for half a year makes enough transfers to see it
    county = baseline.with_overrides(
        {
            "county.synthetic.population.value": 100000,
            "county.synthetic.villages.value": 60,
            "county.synthetic.townships.value": 4,
        }
    )
    diffs = []
    for seed in (1, 2, 3):
        ffs = flowsim.run(county, days=180, seed=seed)
        budget = flowsim.run(county.with_overrides(BUDGET), days=180, seed=seed)
        diffs.append(fund_paid(budget, ["out_of_county"]) - fund_paid(ffs, ["out_of_county"]))
    assert all(d < 0 for d in diffs), diffs


def test_cli_prints_the_settlement(tmp_path, small):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    path = tmp_path / "budget.yaml"
    path.write_text(
        f"extends: {(root / 'configs' / 'baseline.yaml').as_posix()}\nname: budget\n"
        "county:\n  synthetic:\n    population: {value: 5000}\n    villages: {value: 12}\n"
        "    townships: {value: 2}\ncommunity:\n  global_budget: {value: true}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowsim",
            "run",
            str(path),
            "--days",
            "366",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "医共体 year-end settlement" in proc.stdout and "2023" in proc.stdout
    assert "lead hospital's decisions by year" in proc.stdout
    assert (tmp_path / "out" / "settlements.parquet").is_file()
