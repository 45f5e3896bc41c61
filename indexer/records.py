"""The plain data that parsing produces: Record, Skip and IngestReport.

A Record is one project of one document. Every table row the parser reads ends up
either in exactly one Record or in a Skip that says why, so an IngestReport can
always reconcile ``rows_read == records + skipped``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


SECTION_LABELS = {
    "expenditure": "部门预算项目支出及其他支出预算表",
    "key_project": "重点项目预算绩效目标",
    "overall": "部门整体支出绩效目标表",
    "goal_form": "项目支出绩效目标表",
    "self_evaluation": "项目支出绩效自评表",
}
KIND_LABELS = {
    "budget": "部门预算",  # the tables of a department's budget document
    "goal_form": "绩效目标表",  # a project's (or unit's) performance-goal form: what is promised
    "self_evaluation": "绩效自评表",  # the self-evaluation a year later: what was delivered
}


@dataclass
class Indicator:
    """One performance indicator (绩效指标): its place in the tree, the target set, and, in a
    self-evaluation, the value achieved and the score. A level or value the form does not show is None."""

    level1: str | None
    level2: str | None
    name: str
    target: str | None
    actual: str | None = None
    unit: str | None = None  # 度量单位, where the form gives it apart (it is part of ``target`` too)
    weight: float | None = None  # 分值 / 权重
    score: float | None = None  # 得分

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Record:
    """One project of one budget document, merged across the tables it appears in."""

    id: str
    name: str
    goal: str
    city: str | None
    province: str | None
    year: int | None
    department: str
    unit: str
    amount: float | None
    amounts: dict[str, float] = field(default_factory=dict)
    category: str = "其他"
    sections: list[str] = field(default_factory=list)
    source: str = ""
    line: int = 0
    lines: list[int] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    overall_goal: str = ""
    warnings: list[str] = field(default_factory=list)
    kind: str = "budget"  # KIND_LABELS: which kind of document the record comes from
    actual: str = ""  # a self-evaluation's account of what was achieved (实际完成情况)
    executed: float | None = None  # 万元 spent (全年执行数), from a self-evaluation
    execution_rate: float | None = None  # % of the budget spent, as the form states it
    score: float | None = None  # the self-evaluation's total score
    long_goal: str = ""  # the goal of the whole project period (总体目标 / 项目总目标), where a form gives one apart
    complete: bool = True  # False: the document is cut short inside this record's form (``warnings`` say what is missing)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Record":
        data = dict(data)
        data["indicators"] = [Indicator(**i) for i in data.get("indicators", [])]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    def embedding_text(self, goal_chars: int | None = None) -> str:
        """The text a reader compares: the project name, then its goal (its first ``goal_chars`` characters)."""
        goal = self.goal[:goal_chars] if goal_chars else self.goal
        return f"{self.name}：{goal}" if goal else self.name


@dataclass
class Skip:
    """A table row that did not become a record of its own, and why."""

    source: str
    line: int
    section: str
    reason: str
    text: str
    merged_into: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    """What parsing one file did: tables found, rows read, records made, rows skipped."""

    source: str
    encoding: str | None = None
    kind: str = "text"
    rendering: str = "tabs"
    page_count: int | None = None
    textless_pages: list[int] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)
    rows_read: int = 0
    records: int = 0
    skips: list[Skip] = field(default_factory=list)
    error: str | None = None
    forms: list[dict] = field(default_factory=list)  # one entry per form read (parse.forms.to_records)
    stale: str | None = None  # the file failed to parse when last indexed (why); these are its records from before

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def merged(self) -> int:
        return sum(1 for s in self.skips if s.merged_into)

    @property
    def skipped(self) -> int:
        return len(self.skips) - self.merged

    @property
    def form_records(self) -> int:
        return sum(1 for f in self.forms if f.get("record"))

    @property
    def reconciled(self) -> bool:
        """Every table row read is a record or a skip with a reason (and, for a PDF, on every page);
        every cell of a form is in a field, in an indicator, or skipped with a reason."""
        pages_add_up = all(p["rows_read"] == p["records"] + p["merged"] + p["skipped"] for p in self.pages)
        forms_add_up = all(f["cells"] == f["fields"] + f["indicator_cells"] + f["skipped"] for f in self.forms)
        return self.rows_read == self.records - self.form_records + len(self.skips) and pages_add_up and forms_add_up

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(merged=self.merged, skipped=self.skipped, reconciled=self.reconciled)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "IngestReport":
        known = cls.__dataclass_fields__
        data = {k: v for k, v in data.items() if k in known}
        data["skips"] = [Skip(**s) for s in data.get("skips", [])]
        return cls(**data)


def city_label(city: str | None) -> str:
    """``广州市`` → ``广州``: how users type a city in a filter."""
    if not city:
        return ""
    return city[:-1] if city.endswith("市") and len(city) > 2 else city


def record_id(year: int | None, department: str, unit: str, name: str, ordinal: int = 0, kind: str = "budget") -> str:
    """A stable id: the hash of the identifying fields as canonical JSON.

    Same document, same id, however often it is parsed; the ordinal separates two
    rows with the same name under the same unit, the kind a project's goal form from its
    self-evaluation (a budget table's ids are as they always were).
    """
    key = {"year": year, "department": department, "unit": unit, "name": name}
    if ordinal:
        key["ordinal"] = ordinal
    if kind != "budget":
        key["kind"] = kind
    canonical = json.dumps(key, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
