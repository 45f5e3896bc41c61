"""Performance-goal forms the tests write themselves, in the layouts real ones come in.

A ``FormSpec`` is what a form says (kind, year, project, money, goals, indicators). ``grid`` lays it out
as the national templates do — a 绩效目标申报表 or a 项目支出绩效自评表, or 四川's 自评表 with its
指标性质 / 度量单位 / 权重 columns — as rows of cells in which a merged cell is ``None`` after its first
row. The labels come from ``indexer/data/forms.json`` (a spec names which variant to use), the indicator
tree from its level vocabulary. Then each layout writes the grid as converters and sites do:

- ``cells``: one cell per line ending in `` |``, an empty cell a lone ``|``, a merged one absent;
- ``blank``: one cell per line with a blank line between, an empty cell a line of spaces;
- ``pipes``: one row per line, cells separated by `` | ``, merged cells dropped;
- ``spaces``: one row per line, cells separated by one space, merged and empty cells dropped;
- ``html``: a ``<table>`` with ``rowspan`` for the merged level cells;
- ``pdf``: a ruled table (reportlab), merged cells spanned.

Nothing here is imported by goalsearch; the real forms in ``../shared/templates`` are a check, not copied.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = json.loads((ROOT / "indexer" / "data" / "forms.json").read_text("utf-8"))


@dataclass
class IndicatorSpec:
    level1: str
    level2: str
    name: str
    target: str  # as the record should read it (composed for 四川: operator + value + unit)
    actual: str | None = None
    weight: int = 10
    score: int = 10
    operator: str = ""  # 四川: the 指标性质 cell; target then holds the number and ``unit`` the 度量单位
    value: str = ""
    unit: str = ""


@dataclass
class FormSpec:
    kind: str  # goal_form | self_evaluation
    year: int
    name: str
    unit: str
    department: str
    amount: float  # 万元: 年度资金总额, or 年初预算数 of a self-evaluation
    goal: str
    indicators: list[IndicatorSpec]
    budget: float | None = None  # 全年预算数 (self-evaluation)
    executed: float | None = None  # 全年执行数 (self-evaluation)
    actual: str | None = None
    variant: int = 0  # which label variants to use (cycles through forms.json's lists)
    sichuan: bool = False  # the 四川 自评表 columns: 指标性质 | 指标值 | 度量单位 | 完成值 | 权重 | 得分
    in_yuan: bool = False  # money in 元, as 上海's 填报表 writes it


def _label(field_name: str, variant: int) -> str:
    variants = LABELS["fields"][field_name][:2]  # the national wording and the first provincial one
    return variants[variant % len(variants)]


def _money(value: float, in_yuan: bool) -> str:
    return f"{value * 10_000:,.2f}" if in_yuan else f"{value:.2f}"


def grid(spec: FormSpec) -> list[list[str | None]]:
    """The form as rows of cells; a cell merged with the one above is None."""
    title = "项目支出绩效自评表" if spec.kind == "self_evaluation" else "项目支出绩效目标申报表"
    money_label = "项目资金（元）" if spec.in_yuan else "资金情况（万元）"
    rows: list[list[str | None]] = [[title], [f"({spec.year}年度)"],
                                    [_label("name", spec.variant), spec.name, "项目负责人及电话", "张三 12345678"],
                                    [_label("department", spec.variant), spec.department,
                                     _label("unit", spec.variant), spec.unit]]
    if spec.kind == "self_evaluation":
        rate = f"{100 * spec.executed / spec.budget:.2f}%" if spec.budget else "0.00%"
        rows += [[money_label, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
                 ["年度资金总额", _money(spec.amount, spec.in_yuan), _money(spec.budget, spec.in_yuan),
                  _money(spec.executed, spec.in_yuan), "10", rate, "10"],
                 ["年度总体目标", "预期目标", "实际完成情况"],
                 [None, spec.goal, spec.actual or ""]]
        if spec.sichuan:
            header = ["绩效指标", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重",
                      "得分", "未完成原因分析"]
        else:
            header = ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                      "偏差原因分析及改进措施"]
    else:
        rows += [[money_label, "年度资金总额:", _money(spec.amount, spec.in_yuan)],
                 [None, "其中:财政拨款", _money(spec.amount, spec.in_yuan)],
                 [None, "其他资金", ""],
                 ["总体目标", "年度目标"],
                 [None, spec.goal]]
        header = ["绩效指标", "一级指标", "二级指标", "三级指标", "指标值"]
    rows.append(header)
    previous = (None, None)
    for indicator in spec.indicators:
        level1 = indicator.level1 if indicator.level1 != previous[0] else None
        level2 = indicator.level2 if (indicator.level1, indicator.level2) != previous else None
        previous = (indicator.level1, indicator.level2)
        if spec.kind == "self_evaluation" and spec.sichuan:
            values = [indicator.operator, indicator.value, indicator.unit, indicator.actual or "",
                      str(indicator.weight), str(indicator.score), ""]
        elif spec.kind == "self_evaluation":
            values = [indicator.target, indicator.actual or "", str(indicator.weight), str(indicator.score), ""]
        else:
            values = [indicator.target]
        rows.append([None, level1, level2, indicator.name, *values])
    rows.append(["填表人:李四", "联系电话:1234567"])
    return rows


def cells(rows: list[list[str | None]]) -> str:
    lines = []
    for row in rows:
        for cell in row:
            if cell is not None:
                lines.append(f"{cell} |" if cell else "|")
    return "\n".join(lines) + "\n"


def blank(rows: list[list[str | None]]) -> str:
    lines = []
    for row in rows:
        for cell in row:
            if cell is not None:
                lines += [cell if cell else "   ", ""]
    return "\n".join(lines) + "\n"


def pipes(rows: list[list[str | None]]) -> str:
    return "\n".join(" | ".join(c for c in row if c is not None) + " |" for row in rows) + "\n"


def spaces(rows: list[list[str | None]]) -> str:
    return "\n".join(" ".join(c for c in row if c) for row in rows) + "\n"


def to_html(rows: list[list[str | None]]) -> str:
    """A page with the form as a table; merged level cells carry ``rowspan``."""
    width = max(len(r) for r in rows)
    out = ["<html><body><h3>绩效目标公开</h3><table border='1'>"]
    for index, row in enumerate(rows):
        tds = []
        for column, cell in enumerate(row):
            if cell is None:
                continue
            span = 1
            while index + span < len(rows) and column < len(rows[index + span]) and rows[index + span][column] is None \
                    and column > 0:
                span += 1
            attributes = f" rowspan='{span}'" if span > 1 else ""
            if column == len(row) - 1 and len(row) < width:
                attributes += f" colspan='{width - len(row) + 1}'"
            tds.append(f"<td{attributes}>{html.escape(cell)}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</table></body></html>")
    return "\n".join(out)


def to_pdf(rows: list[list[str | None]], path: Path) -> None:
    """A one-page PDF with the form as a ruled table (STSong-Light), merged level cells spanned."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("cell", fontName="STSong-Light", fontSize=7, leading=9, wordWrap="CJK")
    width = max(len(r) for r in rows)
    data, spans = [], []
    for index, row in enumerate(rows):
        padded = list(row) + [""] * (width - len(row))
        data.append([Paragraph(html.escape(c), style) if c else "" for c in padded])
        if len(row) < width:
            spans.append(("SPAN", (len(row) - 1, index), (width - 1, index)))
        for column, cell in enumerate(row):
            if cell is not None and column > 0:
                end = index
                while end + 1 < len(rows) and column < len(rows[end + 1]) and rows[end + 1][column] is None:
                    end += 1
                if end > index:
                    spans.append(("SPAN", (column, index), (column, end)))
    pagesize = landscape(A4)
    table = Table(data, colWidths=[(pagesize[0] - 30 * mm) / width] * width)
    table.setStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), *spans])
    SimpleDocTemplate(str(path), pagesize=pagesize, leftMargin=15 * mm, rightMargin=15 * mm,
                      topMargin=15 * mm, bottomMargin=15 * mm).build([table])


TEXT_LAYOUTS = {"cells": cells, "blank": blank, "pipes": pipes, "spaces": spaces}


def sample_specs() -> list[FormSpec]:
    """A goal form, a self-evaluation and a 四川-style self-evaluation in 元, with every level of the tree."""
    goal_indicators = [
        IndicatorSpec("产出指标", "数量指标", "政务云资源服务台数", "≥120台"),
        IndicatorSpec("产出指标", "数量指标", "运维服务响应次数", "≥300次"),
        IndicatorSpec("产出指标", "质量指标", "系统可用率", "≥99.9%"),
        IndicatorSpec("产出指标", "时效指标", "故障修复时长", "≤4小时"),
        IndicatorSpec("产出指标", "成本指标", "运维服务成本", "≤250万元"),
        IndicatorSpec("效益指标", "社会效益指标", "政务服务连续运行", "全年无中断"),
        IndicatorSpec("满意度指标", "服务对象满意度指标", "使用部门满意度", "≥90%"),
    ]
    self_indicators = [
        IndicatorSpec("产出指标", "数量指标", "完成等保测评系统数", "≥12个", actual="12个", weight=20, score=20),
        IndicatorSpec("产出指标", "质量指标", "测评报告合格率", "100%", actual="100%", weight=20, score=18),
        IndicatorSpec("效益指标", "社会效益指标", "网络安全事件发生次数", "0次", actual="0次", weight=30, score=30),
        IndicatorSpec("满意度指标", "服务对象满意度指标", "被测单位满意度", "≥95%", actual="96%", weight=20, score=20),
    ]
    sichuan_indicators = [
        IndicatorSpec("产出指标", "数量指标", "社保卡制发数量", "≥5000张", actual="5200", weight=40, score=40,
                      operator="≥", value="5000", unit="张"),
        IndicatorSpec("效益指标", "社会效益指标", "持卡人数增长率", "=100%", actual="", weight=50, score=45,
                      operator="=", value="100", unit="%"),
    ]
    return [
        FormSpec("goal_form", 2024, "2024年政务云运维服务项目", "某市政务服务数据管理局信息中心", "某市政务服务数据管理局",
                 250.0, "保障全市政务云平台稳定运行，完成云资源扩容和安全运维。", goal_indicators),
        FormSpec("self_evaluation", 2023, "网络安全等级保护测评项目", "某县大数据中心", "某县数据资源管理局", 96.5,
                 "完成本县重要信息系统等级保护测评。", self_indicators, budget=96.5, executed=90.2,
                 actual="完成12个系统测评，整改问题35项。", variant=1),
        FormSpec("self_evaluation", 2023, "51000023R0000001-社会保障卡制发经费", "某县人力资源和社会保障局",
                 "某县人力资源和社会保障局本级", 83.12, "按时制发社会保障卡，保障参保群众用卡需求。",
                 sichuan_indicators, budget=85.0, executed=85.0, actual="全年制发社会保障卡5200张。", sichuan=True,
                 in_yuan=True),
    ]
