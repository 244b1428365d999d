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
    "settlement.community_kept": ("surplus the county medical community (医共体) keeps",
                                  "医共体结余留用"),
    "settlement.community_bears": ("overrun the 医共体 bears (shown below zero)",
                                   "医共体承担的超支（画在零线以下）"),
    "settlement.fund_extra": ("fund's year-end payment to the 医共体 (below zero: paid back)",
                              "基金年终向医共体支付（零线以下：医共体退回基金）"),
    # what a calibration targets beside indicators (flowsim.calibrate)
    "calibrate.elasticity.outpatient": ("participation price elasticity, minor episodes",
                                        "门诊就诊价格弹性"),
    "calibrate.elasticity.inpatient": ("participation price elasticity, admissions",
                                       "住院价格弹性"),
    # units of indicators (fractions are shown in %)
    "unit.fraction": ("%", "百分比"),
    "unit.fraction of residents per year": ("% of residents per year", "%（占居民，每年）"),
    "unit.fraction per year": ("% per year", "%/年"),
    "unit.episodes per person-year": ("episodes per person-year", "例/人·年"),
    # large amounts of money (flowsim.formats.money_unit: 亿元 / 万元, or million / thousand)
    "money.large": ("million yuan", "亿元"),
    "money.medium": ("thousand yuan", "万元"),
    # units of scenario parameters (what a scenario changes)
    "unit.yuan per year": ("yuan per year", "元/年"),
    "unit.yuan per admission": ("yuan per admission", "元/次住院"),
    "unit.yuan per visit": ("yuan per visit", "元/人次"),
    "unit.yuan per person per year": ("yuan per person per year", "元/人·年"),
    "unit.yuan per insured person per year (into the pooled fund)": (
        "yuan per insured person per year", "元/参保人·年"),
    "unit.yuan per bed-day": ("yuan per bed-day", "元/床日"),
    "unit.yuan per unit of group weight": ("yuan per unit of group weight", "元/单位权重"),
    "unit.days per prescription": ("days per prescription", "天/处方"),
    "unit.groups": ("groups", "组"),
    "unit.residents": ("residents", "人"),
    "unit.minutes": ("minutes", "分钟"),
    "unit.days": ("days", "天"),
    "unit.months of budget": ("months of budget", "个月预算"),
    "unit.townships": ("townships", "个乡镇"),
    "unit.villages": ("villages", "个行政村"),
    # coded values of scenario parameters
    "word.yes": ("yes", "是"),
    "word.no": ("no", "否"),
    "value.none": ("none", "无"),
    "value.first_only": ("only the first deductible", "只计算首次起付线"),
    "value.difference": ("only the difference of deductibles", "连续计算起付线（补差）"),
    "value.remote": ("remote villages only", "仅偏远村"),
    "value.all": ("all", "全部"),
    "value.fee_for_service": ("fee-for-service", "按项目付费"),
    "value.drg": ("DRG", "DRG 付费"),
    "value.dip": ("DIP", "DIP 付费"),
    "value.bed_day": ("bed-day payment", "按床日付费"),
    "value.points": ("rate points", "百分点"),
    "value.relative": ("relative to the rate", "按比例"),
    # scenario parameters in words (English: the description as written, unless named here)
    "param.start_date": ("start date of the run", "模拟起始日期"),
    "param.benefits.rate": ("reimbursement rate", "报销比例"),
    "param.benefits.deductible": ("deductible", "起付线"),
    "param.benefits.annual_cap": ("annual cap", "年度最高支付限额"),
    "param.county.synthetic.population": ("residents of the county", "县域常住人口"),
    "param.county.synthetic.townships": ("townships", "乡镇数"),
    "param.county.synthetic.villages": ("villages", "行政村数"),
    "param.benefits.grassroots_outpatient_deductible_waived": (
        "no ordinary outpatient deductible at village clinics and township centres",
        "基层普通门诊取消起付线"),
    "param.benefits.referral_continuity.upward": (
        "deductible on an upward referral inside the county", "医共体内上转起付线"),
    "param.benefits.referral_continuity.downward_waived": (
        "no new deductible after a downward referral", "下转后取消起付线"),
    "param.benefits.gatekeeping.penalty": (
        "rate cut for care without a referral (基层首诊)", "未经转诊就医降低报销比例（基层首诊）"),
    "param.benefits.gatekeeping.mode": ("how the rate cut is read", "降低报销比例的计算方式"),
    "param.benefits.chronic.lowest_certifying_tier": (
        "lowest tier that certifies 两病 patients", "两病认定的最低机构层级"),
    "param.benefits.chronic.village_claims": (
        "两病 claims reimbursed at village clinics", "村卫生室两病门诊可报销"),
    "param.benefits.chronic.prescription_days": (
        "两病 prescription length (长处方)", "两病处方天数（长处方）"),
    "param.benefits.family_doctor_min_rate": (
        "minimum rate at the contracted family-doctor facility", "家庭医生签约机构最低报销比例"),
    "param.payment.inpatient_method": ("how the fund pays admissions", "住院医保支付方式"),
    "param.payment.same_price_groups": (
        "same-price groups (同病同价)", "同城同价病组数"),
    "param.payment.rehab_method": (
        "how the fund pays rehabilitation stays", "康复住院支付方式"),
    "param.payment.outpatient_capitation": (
        "outpatient capitation (按人头付费)", "门诊按人头付费"),
    "param.community.global_budget": (
        "医共体 global budget (总额付费)", "医共体医保基金总额付费"),
    "param.referral.down_for_rehab": (
        "county-hospital discharges referred down for rehabilitation", "县级医院出院下转康复比例"),
    "param.assistance.share": ("medical-assistance share", "医疗救助比例"),
    "param.fund.contribution": ("fund contribution per member", "人均筹资标准"),
    # what a scenario changes (the decision summary)
    "change.from_date": ("{value} from {date}", "{date} 起 {value}"),
    "change.run_start": ("run start", "模拟开始"),
    "change.no_source": ("none of its own: set with --set or an experiment's overrides",
                         "未注明依据：由 --set 或实验设定"),
    "unit.ratio": ("ratio", "比值"),
    "unit.fraction of revenue": ("fraction of revenue", "占收入比例"),
    "unit.score (0–1)": ("score (0–1)", "得分（0–1）"),
    "unit.yuan per person-year": ("yuan per person-year", "元/人·年"),
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
        "Difference from the baseline, {baseline}: 95 % intervals paired over seeds",
        "与基线“{baseline}”之差，95% 置信区间（同种子配对）"),
    "figure.monthly": ("Indicators by month", "指标逐月变化"),
    "figure.tiers": ("Outpatient visits and admissions per day, by tier (monthly averages)",
                     "各级机构日均门诊与住院人次（按月平均）"),
    "figure.fund_flow": ("Who pays whom: fund, patients and medical assistance → tiers ({unit})",
                         "资金流向：医保基金、患者自付、医疗救助 → 各级机构（{unit}）"),
    "figure.referrals": ("Referrals between tiers (orange: upward; green: downward)",
                         "转诊流向（橙色：上转；绿色：下转）"),
    "figure.map": ("The county's facilities (area = outpatient visits)",
                   "县域医疗机构网络（圆面积 = 门诊人次）"),
    "figure.settlement": (
        "County medical community (医共体) year-end settlement: surplus kept, overrun shared",
        "医共体年终结算（总额付费：结余留用、合理超支分担）"),
    "figure.settlement_spending": ("budget and spending ({unit})", "预算与实际支出（{unit}）"),
    "figure.settlement_shared": ("how the surplus or overrun was settled ({unit})",
                                 "结余与超支如何分担（{unit}）"),
    "figure.equity": ("Equity by income quintile", "公平性：按收入五分位"),
    "figure.dose_response": (
        "Dose–response: change from the baseline, {baseline}, along the swept lever",
        "剂量–反应曲线：随扫描参数变化、与基线“{baseline}”之差"),
    "word.baseline_line": ("0 = the baseline, {baseline}", "0 = 基线“{baseline}”"),
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
        "patients' out-of-pocket, medical assistance); right: the tier that received it, over "
        "the whole run, in the unit of the title. Band width is proportional to money. Year-end "
        "settlements are not included.",
        "左侧为付费方（医保基金按支付方式向机构支付的金额、患者自付、医疗救助），"
        "右侧为收款的机构层级，整个模拟期合计，单位见标题。带宽与金额成正比。不含年终清算。"),
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
    "section.settlement": ("Year-end settlement of the county medical community (医共体)",
                           "医共体年终结算"),
    "how.settlement": (
        "Per insurance year, in the unit on the axis: the 医共体's global budget and what it spent "
        "(top); below, how the balance was settled: the surplus the 医共体 kept (结余留用), the "
        "overrun it bore (合理超支分担, drawn below zero) and the fund's year-end payment to the "
        "医共体 — above zero the fund pays it, below zero the 医共体 pays the fund back.",
        "每个医保年度（单位见纵轴）：上图为医共体总额预算与实际支出；下图为结余与超支如何分担："
        "医共体结余留用、医共体承担的合理超支（画在零线以下），以及年终结算时基金向医共体的支付——"
        "零线以上为基金补付，零线以下为医共体退回基金。"),
    "section.dose_response": ("Dose–response", "剂量–反应曲线"),
    "how.dose_response": (
        "How much an indicator (menu) changes from the baseline as the swept lever (x axis) "
        "moves. Each point is the mean difference from the baseline run with the same seeds, "
        "its bar the 95 % interval of that paired difference; the dotted line is the baseline. "
        "Shares are in percentage points. One line per value of any other swept lever.",
        "指标（菜单选择）随扫描参数（横轴）变化时与基线之差。每个点为与相同种子基线运行之差的均值，"
        "误差线为配对差值的 95% 置信区间；虚线为基线。比例以百分点表示。"
        "其他扫描参数每个取值一条线。"),
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
    # the decision summary
    "section.summary": ("Summary: what each scenario changes, and what it does to patients and "
                        "the fund", "摘要：各方案改变了什么，对患者和医保基金有何影响"),
    "summary.changes": ("What it changes from the baseline", "相对基线的改变"),
    "summary.no_changes": ("Same parameters as the baseline.", "参数与基线相同。"),
    "summary.col_parameter": ("parameter", "参数"),
    "summary.col_from": ("baseline", "基线"),
    "summary.col_to": ("this scenario", "本方案"),
    "summary.col_when": ("in force from", "生效日期"),
    "summary.col_source": ("source (document and clause)", "依据（文件及条款）"),
    "summary.part_of_run": (
        "Changes dated {date} are in force for {days} of the run's {total} days ({share} %): "
        "the results below mix the time before and after them.",
        "{date} 生效的改变只在模拟期 {total} 天中的 {days} 天（{share}%）内有效："
        "以下结果混合了生效前后的时期。"),
    "summary.after_run": (
        "Changes dated {date} take effect after the run ends ({end}): they are not in these "
        "results.",
        "{date} 生效的改变在模拟结束（{end}）之后才生效：不反映在这些结果中。"),
    "summary.outcomes": ("Key outcomes: change from the baseline", "主要结果：与基线之差"),
    "summary.how": (
        "Each change is the scenario's result minus the baseline's over the same {n} seeds (the "
        "same illnesses), its 95 % interval below it. ▲ better or ▼ worse says for whom: "
        "patients, the fund, or the tiered-care (分级诊疗) goal; 'no clear change' when the "
        "interval includes zero. Shares change in percentage points; money is in yuan per "
        "resident per year.",
        "每项变化为本方案结果减去基线结果（{n} 个相同随机种子，疾病抽样相同），"
        "其下为 95% 置信区间。"
        "▲ 有利 / ▼ 不利 注明对谁：患者、医保基金或分级诊疗目标；区间包含零时为“无明确变化”。"
        "比例的变化以百分点表示；金额单位为元/人·年。"),
    "summary.how_one": (
        "Each change is the scenario's result minus the baseline's with the same seed (the same "
        "illnesses). With one replication there is no interval, so a small change may be noise: "
        "run with --replications 3 or more for 95 % intervals. Shares change in percentage "
        "points; money is in yuan per resident per year.",
        "每项变化为本方案结果减去基线结果（相同随机种子，疾病抽样相同）。只有一次重复时没有置信区间，"
        "较小的变化可能只是随机波动：使用 --replications 3 或更多次可得到 95% 置信区间。"
        "比例的变化以百分点表示；金额单位为元/人·年。"),
    "summary.baseline_level": ("{baseline}: level", "{baseline}：水平"),
    "summary.change_in": ("{variant}: change", "{variant}：变化"),
    "summary.levers": ("The swept lever", "扫描参数"),
    "summary.lever_name": ("lever", "参数"),
    "summary.lever_values": ("values", "取值"),
    "summary.lever_sets": ("what it sets", "设定的参数"),
    "verdict.better": ("better for {whom}", "对{whom}有利"),
    "verdict.worse": ("worse for {whom}", "对{whom}不利"),
    "verdict.better_point": ("better for {whom} (no interval)", "对{whom}有利（无置信区间）"),
    "verdict.worse_point": ("worse for {whom} (no interval)", "对{whom}不利（无置信区间）"),
    "verdict.unclear": ("no clear change", "无明确变化"),
    "whom.patients": ("patients", "患者"),
    "whom.fund": ("the fund", "医保基金"),
    "whom.goal": ("the tiered-care goal", "分级诊疗目标"),
    "meaning.benefits.chronic.prescription_days": (
        "{scenario} lengthens 两病 prescriptions ({parameter}): each follow-up visit covers more "
        "days, so fewer 两病 visits are counted for the same care, and outpatient visits per "
        "capita fall for that reason too. Read visits beside the episodes treated. Changes "
        "from the baseline: {values}.",
        "{scenario}延长了两病处方（{parameter}）：每次随访覆盖更多天数，同样的诊疗计入的两病随访人次更少，"
        "人均门诊人次也因此下降。请结合人均就医病例数阅读门诊人次。与基线之差：{values}。"),
    # the policy explorer (flowsim app): its levers, panels and figures
    "lever.inpatient_rate_township": ("inpatient rate, township health centres (%)",
                                      "乡镇卫生院住院报销比例（%）"),
    "lever.inpatient_rate_county": ("inpatient rate, county hospitals (%)",
                                    "县级医院住院报销比例（%）"),
    "lever.deductible_waived": ("no outpatient deductible at the grassroots",
                                "基层普通门诊取消起付线"),
    "lever.gatekeeping_county": ("rate cut at county hospitals without a referral (points)",
                                 "未经基层转诊到县级医院门诊降低比例（百分点）"),
    "lever.out_of_county_penalty": ("rate cut for unreferred admissions out of the county (points)",
                                    "未经转诊县域外住院降低比例（百分点）"),
    "lever.chronic_rate": ("两病 rate at the grassroots (%)", "基层两病门诊报销比例（%）"),
    "lever.certifying_tier": ("lowest tier certifying 两病 patients", "两病认定的最低机构层级"),
    "lever.global_budget": ("医共体 global budget", "医共体医保基金总额付费"),
    "lever.inpatient_method": ("how the fund pays hospitals", "住院医保支付方式"),
    "lever.assistance_dibao": ("medical assistance for 低保 families (%)",
                               "低保对象医疗救助比例（%）"),
    "app.title": ("flowsim policy explorer", "flowsim 分级诊疗政策模拟"),
    "app.levers": ("Policy levers", "政策杠杆"),
    "app.levers_how": (
        "Move a lever: the county under your settings is run again from the start to this month "
        "with the same seed as the baseline (the same illnesses). Hover a lever for its unit and "
        "source. Mesa's controls: Step runs a month, ▶ plays, Reset starts again.",
        "调整杠杆后，按您的设定从头重新模拟至当前月份，随机种子与基线相同（疾病抽样相同）。"
        "鼠标悬停可见单位与依据。Mesa 控件：Step 模拟一个月，▶ 连续运行，Reset 从头开始。"),
    "app.hover": ("{description}. Unit: {unit}. Source: {source}. Sets: {paths}",
                  "{description}。单位：{unit}。依据：{source}。设定：{paths}"),
    "app.gap": ("township–county gap: {points} points",
                "乡镇与县级住院报销比例差：{points} 个百分点"),
    "app.working": ("running your settings to month {month}…",
                    "正在按新设定模拟至第 {month} 个月…"),
    "app.reset_levers": ("levers back to the baseline", "杠杆恢复基线"),
    "app.save": ("Save as scenario", "保存为方案文件"),
    "app.file_name": ("file name (.yaml)", "文件名（.yaml）"),
    "app.saved": ("wrote {path}: run it with flowsim run {path}",
                  "已写入 {path}：用 flowsim run {path} 运行"),
    "app.nothing_to_save": ("no lever differs from the baseline: nothing to save",
                            "所有杠杆与基线相同：无需保存"),
    "app.compare": ("compare with the baseline (applied on Reset)",
                    "与基线对比（Reset 后生效）"),
    "app.save_refused": ("cannot write {path}: {why}", "无法写入 {path}：{why}"),
    "app.bad_name": ("a file name ending in .yaml (letters, digits, - _ . and spaces)",
                     "以 .yaml 结尾的文件名（字母、数字、- _ . 和空格）"),
    "app.exists": ("this file exists: choose another name", "文件已存在：请换一个文件名"),
    "app.month": ("month {n}: {start} to {end}", "第 {n} 个月：{start} 至 {end}"),
    "app.not_started": ("Nothing simulated yet: press Step (one month) or ▶ in Mesa's controls.",
                        "尚未模拟：点击 Mesa 控件中的 Step（一个月）或 ▶。"),
    "app.policy": ("your settings", "您的设定"),
    "app.baseline": ("baseline: {name}", "基线：{name}"),
    "app.difference": ("difference", "差值"),
    "app.headline": ("Headline indicators so far: your settings against the baseline",
                     "至今主要指标：您的设定与基线对比"),
    "app.same_seed": ("Both counties share seed {seed} and {n} residents: the difference is the "
                      "policy, not chance.",
                      "两县随机种子均为 {seed}，常住人口 {n} 人：差值反映政策而非随机波动。"),
    "app.tiers": ("Outpatient visits and admissions per day, by tier",
                  "各级机构日均门诊与住院人次"),
    "app.shares": ("Grassroots visit share and in-county share of fund spending",
                   "基层就诊率与县域内基金支出比例"),
    "app.fund": ("Fund spending by tier ({unit} per year, annualised from the month)",
                 "各级机构基金支出（{unit}/年，按月折算）"),
    "app.oop": ("Out-of-pocket per resident (yuan per person-year, annualised from the month)",
                "人均自付费用（元/人·年，按月折算）"),
    "app.map": ("The county's facilities", "县域医疗机构"),
    "app.map_how": ("area: outpatient visits so far; the menu picks the county",
                    "圆面积：至今门诊人次；菜单选择方案"),
    "app.solid_dotted": ("solid: your settings; dotted: the baseline",
                         "实线：您的设定；虚线：基线"),
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
    "page.county": ("county", "县"),
    "county.default county": ("default synthetic county", "默认模拟县"),
    "page.residents_of": (", {n} residents", "，常住人口 {n} 人"),
    "page.period": ("simulated period", "模拟期"),
    "page.period_value": ("{start} to {end} ({days} days)", "{start} 至 {end}（{days} 天）"),
    "page.replications": ("replications", "重复次数"),
    "page.replications_value": ("{n} (seeds {seeds})", "{n} 次（随机种子 {seeds}）"),
    "page.settings": ("set on the command line (--set, --population)",
                      "命令行设置（--set、--population）"),
    "page.na_note": (
        "n/a: not defined for this run. Medical cost growth needs two consecutive insurance "
        "years of at least 360 simulated days each (run 730 days or more from 1 January).",
        "n/a：本次模拟无法计算。医疗费用增长率需要连续两个各至少 360 天的医保年度"
        "（从 1 月 1 日起模拟 730 天或以上）。"),
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
