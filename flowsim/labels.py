"""Every fixed text a user reads, in English and Chinese, declared once.

``TEXT`` maps a dotted key to an (English, Chinese) pair; ``text(key, lang)`` picks one language
and fills in ``{fields}`` from keyword arguments. The first part of a key says what the text is:

- ``tier.*``, ``service.*``, ``scheme.*``: the codes of ``flowsim.domain``;
- ``payer.*``, ``settlement.*``: who pays in the fund-flow figure, the 医共体 settlement bars;
- ``unit.*``: the units of indicators (``unit.fraction`` …);
- ``word.*``: axis titles, hover words and table headers;
- ``figure.*``: figure titles (and the words of a figure's own notes);
- ``section.*``, ``how.*``: a report section's title and its "how to read this" note;
- ``page.*``: the rest of the report page (facts, sources, language switch).

Indicator labels are declared with each indicator (``flowsim.indicators``). Names that come from
the user (scenarios, facilities, parameters) are shown as written.
"""

from __future__ import annotations

LANGS = ("zh", "en")
"""Languages of every label: Chinese (as in the seed documents) and English."""

TEXT: dict[str, tuple[str, str]] = {
    # levels of care, benefit categories, schemes (flowsim.domain)
    "tier.village": ("village clinic", "村卫生室"),
    "tier.township": ("township health centre", "乡镇卫生院"),
    "tier.county": ("county hospital", "县级医院"),
    "tier.out_of_county": ("out-of-county hospital", "县域外医院"),
    "service.outpatient": ("ordinary outpatient", "普通门诊"),
    "service.chronic": ("chronic outpatient (两病)", "门诊慢特病"),
    "service.inpatient": ("inpatient", "住院"),
    "scheme.resident": ("urban-rural resident insurance", "城乡居民医保"),
    "scheme.employee": ("employee insurance", "职工医保"),
    # who pays (the fund-flow figure) and the 医共体 year-end settlement
    "payer.fund_paid": ("insurance fund", "医保基金"),
    "payer.patient": ("patients (out of pocket)", "患者自付"),
    "payer.assistance": ("medical assistance", "医疗救助"),
    "settlement.budget": ("budget", "预算"),
    "settlement.spent": ("spent", "实际支出"),
    "settlement.community_kept": ("surplus kept by the 医共体", "结余留用"),
    "settlement.community_bears": ("overrun borne by the 医共体", "医共体承担超支"),
    "settlement.fund_extra": ("fund pays (+) or recovers (−)", "基金补付(+)/收回(−)"),
    # units of indicators
    "unit.fraction": ("fraction", "比例"),
    "unit.fraction of residents per year": ("fraction of residents per year", "每年居民比例"),
    "unit.fraction per year": ("fraction per year", "每年比例"),
    "unit.ratio": ("ratio", "比值"),
    "unit.fraction of revenue": ("fraction of revenue", "占收入比例"),
    "unit.score (0–1)": ("score (0–1)", "得分（0–1）"),
    "unit.yuan per person-year": ("yuan per person-year", "元/人·年"),
    "unit.yuan per year": ("yuan per year", "元/年"),
    "unit.visits per person-year": ("visits per person-year", "人次/人·年"),
    "unit.admissions per person-year": ("admissions per person-year", "人次/人·年"),
    "unit.per 1,000 person-years": ("per 1,000 person-years", "每千人·年"),
    # the symbol of percentage points after a number (flowsim.formats)
    "word.points": ("pp", "个百分点"),
    # words of axes, hovers and tables
    "word.indicator": ("indicator", "指标"),
    "word.unit": ("unit", "单位"),
    "word.month": ("month", "月份"),
    "word.days": ("days", "天"),
    "word.visits": ("outpatient visits", "门诊人次"),
    "word.admissions": ("admissions", "住院人次"),
    "word.yuan": ("yuan", "元"),
    "word.referrals": ("referrals", "转诊人次"),
    "word.up": ("upward referral", "上转"),
    "word.down": ("downward referral", "下转"),
    "word.from": ("from", "转出"),
    "word.to": ("to", "转入"),
    "word.policy_change": ("policy change", "政策变化"),
    "word.percentage_points": ("percentage points", "百分点"),
    "word.beds": ("beds", "床位"),
    "word.bill": ("bills", "医疗费用"),
    "word.fund": ("fund income", "基金支付"),
    "word.quintile": ("income quintile (1 = poorest)", "收入五分位（1 = 最低）"),
    "word.oop": ("out-of-pocket per capita (yuan per person-year)", "人均自付费用（元/人·年）"),
    "word.catastrophic": ("catastrophic expenditure incidence", "灾难性卫生支出发生率"),
    "word.interval": ("95 % interval", "95% 置信区间"),
    "word.runs": ("runs", "次运行"),
    "word.pairs": ("seed pairs", "对种子"),
    "word.x_km": ("east (km)", "东西向（公里）"),
    "word.y_km": ("north (km)", "南北向（公里）"),
    "word.parameter": ("parameter", "参数"),
    "word.per_day": ("per day", "人次/日"),
    "word.visits_per_day": ("outpatient visits per day", "日均门诊人次"),
    "word.admissions_per_day": ("admissions per day", "日均住院人次"),
    "word.partial_month": ("partial month: {days} days", "不完整月份：{days} 天"),
    "word.month_total": ("month's total: {total} {what}", "本月合计 {total} {what}"),
    # figure titles
    "figure.headline": ("Headline indicators", "主要指标"),
    "figure.differences": (
        "Difference from the baseline ({baseline}), 95 % intervals paired over seeds",
        "与基线（{baseline}）之差，95% 置信区间（同种子配对）"),
    "figure.monthly": ("Indicators by month", "指标逐月变化"),
    "figure.tiers": ("Outpatient visits and admissions per day, by tier (monthly averages)",
                     "各级机构日均门诊与住院人次（按月平均）"),
    "figure.fund_flow": ("Who pays whom: fund, patients and medical assistance → tiers (yuan)",
                         "资金流向：医保基金、患者自付、医疗救助 → 各级机构（元）"),
    "figure.referrals": ("Referrals between tiers (orange: upward; green: downward)",
                         "转诊流向（橙色：上转；绿色：下转）"),
    "figure.map": ("The county's facilities (area = outpatient visits)",
                   "县域医疗机构网络（圆面积 = 门诊人次）"),
    "figure.settlement": (
        "医共体 year-end settlement (global budget: surplus kept, overrun shared)",
        "医共体年终结算（总额付费：结余留用、合理超支分担）"),
    "figure.settlement_spending": ("budget and spending", "预算与支出"),
    "figure.settlement_shared": ("how the surplus or overrun was shared", "结余与超支的分担"),
    "figure.equity": ("Equity by income quintile", "公平性：按收入五分位"),
    "figure.dose_response": ("Dose–response (parameter sweep)", "剂量–反应曲线（参数扫描）"),
    "figure.sensitivity": ("Sensitivity indices ({method})", "敏感性分析（{method}）：{indicator}"),
    # report sections: title and how to read the figure
    "section.headline": ("Headline indicators", "主要指标"),
    "how.headline": (
        "The seed documents' indicators over the whole run, with their units. For comparisons "
        "and experiments each column is a scenario: the mean over replications and its 95 % "
        "t-interval in brackets.",
        "整个模拟期的主要指标及单位。"
        "比较或实验中每列为一个方案：各次重复的均值，方括号内为 95% t 置信区间。"),
    "section.differences": ("Scenario minus baseline", "方案与基线之差"),
    "how.differences": (
        "Each dot is a scenario's mean difference from the baseline, paired over seeds (both "
        "runs share every illness draw, so the difference is the policy, not noise). The bar "
        "is the 95 % interval; a bar that does not cross the dotted zero line is a clear "
        "effect. Shares are in percentage points. Hover for exact numbers.",
        "每个点为方案与基线之差的均值（同一随机种子配对，"
        "两次运行的疾病抽样相同，差值反映政策而非随机波动）。"
        "横线为 95% 置信区间；不跨越零线（虚线）表示效果明确。"
        "比例以百分点表示。鼠标悬停可见精确数值。"),
    "section.monthly": ("Indicators by month", "指标逐月变化"),
    "how.monthly": (
        "Choose an indicator in the menu. Each line is a scenario (the shaded band, when shown, "
        "is the 95 % interval over replications). Dashed vertical lines mark dated policy "
        "changes. An open circle marks a partial first or last month (hover for its number "
        "of days); monthly values are noisier than the whole-run values.",
        "在菜单中选择指标。每条线为一个方案（阴影为各次重复的 95% 置信区间）。"
        "竖直虚线标出政策生效日期。"
        "空心圆表示首末不完整月份（悬停可见天数）；月度数值的波动大于全期数值。"),
    "section.tiers": ("Visits and admissions per day by tier", "各级机构日均门诊与住院人次"),
    "how.tiers": (
        "Stacked bars: average outpatient visits (top) and admissions (bottom) per day in "
        "each month, at village clinics, township centres, county hospitals and outside the "
        "county. Daily averages keep a partial first or last month comparable with full "
        "months; hover for the month's total and, for a partial month, its number of days. "
        "A growing green and teal share means care moving to the grassroots (基层). Click a "
        "legend entry to hide a tier.",
        "堆积柱：各月内平均每天各级机构（村卫生室、乡镇卫生院、县级医院、县域外医院）的门诊人次（上）"
        "和住院人次（下）。按日平均，首末不完整月份可与完整月份直接比较；"
        "悬停可见当月合计人次，不完整月份另注明天数。"
        "绿色与青色部分扩大表示患者流向基层。点击图例可隐藏某一级机构。"),
    "section.fund_flow": ("Who pays whom", "资金流向"),
    "how.fund_flow": (
        "Left: who paid (the insurance fund's payments to providers under the payment method, "
        "patients' out-of-pocket, medical assistance); right: the tier that received it, in "
        "yuan over the whole run. Band width is proportional to money. Year-end settlements "
        "are not included.",
        "左侧为付费方（医保基金按支付方式向机构支付的金额、患者自付、医疗救助），"
        "右侧为收款的机构层级，"
        "单位为元（整个模拟期）。带宽与金额成正比。不含年终清算。"),
    "section.referrals": ("Referrals", "转诊"),
    "how.referrals": (
        "Referrals over the whole run from one tier (left) to another (right): upward in "
        "orange (outpatient referrals and inpatient transfers), downward for rehabilitation "
        "in green. Band width is proportional to the number of referrals.",
        "整个模拟期内从一级机构（左）转往另一级（右）的人次：橙色为上转（门诊转诊及住院转院），"
        "绿色为康复下转。带宽与转诊人次成正比。"),
    "section.map": ("The county's facilities", "县域医疗机构分布"),
    "how.map": (
        "Each circle is a facility at its place (km from the county seat); its area is "
        "proportional to outpatient visits over the run and its colour is the tier. Grey lines "
        "join village clinics to their township centre, centres and out-of-county hospitals "
        "to the county hospital. Hover for visits, admissions, beds and money.",
        "每个圆为一所医疗机构（坐标为距县城的公里数），面积与模拟期门诊人次成正比，颜色表示层级。"
        "灰线连接村卫生室与所属乡镇卫生院，"
        "以及乡镇卫生院、县域外医院与县级医院。悬停可见门诊、住院、床位与费用。"),
    "section.settlement": ("医共体 year-end settlement", "医共体年终结算"),
    "how.settlement": (
        "Per insurance year: the county medical community's global budget, what it spent, "
        "the surplus it kept (结余留用) or the overrun it bore (合理超支分担), and what the fund "
        "paid on top (+) or took back (−) at settlement, in yuan.",
        "每个医保年度：医共体总额预算、实际支出、结余留用或合理超支分担的金额，"
        "以及年终清算时基金补付（+）"
        "或收回（−）的金额，单位为元。"),
    "section.dose_response": ("Dose–response", "剂量–反应曲线"),
    "how.dose_response": (
        "How an indicator (menu) changes along the swept parameter on the x axis; one line per "
        "value of any other swept parameter. Error bars are 95 % intervals over replications.",
        "指标（菜单选择）随横轴所扫描参数的变化；"
        "其他扫描参数每个取值一条线。误差线为各次重复的 95% 置信区间。"),
    "section.sensitivity": ("Sensitivity", "敏感性分析"),
    "how.sensitivity": (
        "Which parameters move an indicator (menu) most. Morris: μ* is the mean absolute "
        "elementary effect (importance), σ its spread (non-linearity or interactions). Sobol: "
        "S1 is the share of variance a parameter explains alone, ST including its "
        "interactions. Error bars are the 95 % confidence of the estimate.",
        "哪些参数对指标（菜单选择）影响最大。"
        "Morris 法：μ* 为基本效应绝对值的均值（重要性），σ 为其离散程度"
        "（非线性或交互作用）。Sobol 法：S1 为参数单独解释的方差比例，"
        "ST 含交互作用。误差线为估计的 95% 置信度。"),
    "section.equity": ("Equity", "公平性"),
    "how.equity": (
        "Out-of-pocket spending per person-year (left) and the share of residents with "
        "catastrophic health expenditure in an insurance year (out-of-pocket ≥ 40 % of "
        "capacity to pay; right), by income quintile, quintile 1 the poorest. Error bars, "
        "when shown, are 95 % intervals over replications.",
        "按收入五分位（第 1 组最低）的人均自付费用（左，元/人·年）与灾难性卫生支出发生率（右，"
        "医保年度内自付 ≥ 支付能力的 40%）。误差线为各次重复的 95% 置信区间。"),
    # the rest of the report page
    "page.how": ("How to read this", "如何阅读"),
    "page.sources": ("Scenario files and their sources", "方案文件及其依据"),
    "page.sources_note": (
        "Every parameter of a scenario cites a source: a seed document and clause, a "
        "calibration target, or 'assumed'. Open a scenario's list to see which parameters cite "
        "which source, and its full resolved file.",
        "方案中的每个参数都注明依据：政策文件及条款、校准目标或“假设”（assumed）。"
        "展开可查看各参数引用的依据及完整的方案文件。"),
    "page.cited": ("sources cited", "引用的依据"),
    "page.source": ("source", "依据"),
    "page.parameters": ("parameters", "参数"),
    "page.yaml": ("scenario file (YAML)", "方案文件（YAML）"),
    "page.scenario": ("scenario", "方案"),
    "page.run": ("single run", "单次运行"),
    "page.compare": ("comparison", "方案比较"),
    "page.experiment": ("experiment", "实验"),
    "page.seed": ("seed", "随机种子"),
    "page.seeds": ("seeds", "随机种子"),
    "page.days": ("days", "模拟天数"),
    "page.start": ("start date", "起始日期"),
    "page.residents": ("residents", "常住人口"),
    "page.baseline": ("baseline", "基线"),
    "page.variants": ("scenarios", "方案"),
    "page.counties": ("counties", "县"),
    "page.shown": ("figures for", "图示范围"),
    "page.made": ("Made with flowsim", "由 flowsim 生成"),
    "page.policy_changes": ("dated policy changes", "政策生效日期"),
}


def text(key: str, lang: str, **fields: object) -> str:
    """The label ``key`` in ``lang`` ("zh" or "en"), with ``{fields}`` filled in.

    Raises:
        KeyError: ``key`` is not declared in ``TEXT``.
        ValueError: ``lang`` is not one of ``LANGS``.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    en, zh = TEXT[key]
    chosen = zh if lang == "zh" else en
    return chosen.format(**fields) if fields else chosen
