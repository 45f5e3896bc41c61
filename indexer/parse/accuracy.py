"""How exactly the parser reads a folder of documents, against records labelled by hand.

    goalsearch eval-parse ../shared/templates          # expected.jsonl in that folder

The expected file has one JSON object per project: ``file`` (a file of the folder), ``complete`` (false
where the document is cut), the fields ``name``, ``unit``, ``department``, ``year``, ``amount_wan``,
``executed_wan``, ``goal``, ``actual`` (null where the document does not give one) and ``indicators``
(``level1``, ``level2``, ``name``, ``target``, ``actual``). Each file is parsed as ``goalsearch parse``
parses it; a text file's leading ``# `` header lines (a description of the document, up to a
``# ----`` line) are not part of it. Each expected record is matched to the parsed record of its file
with the same name (else the most similar name, else, for a record without a name, none).

Reported per field: on complete records, the share exactly right (whitespace aside; amounts to 0.0001
万元); on every record, how often a field the document leaves empty was filled (``filled_where_null``,
which must be zero); indicators as the share of expected indicators found with all five parts right.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from ..errors import UsageError
from ..records import Record
from .document import parse_bytes

FIELDS = {"name": "name", "unit": "unit", "department": "department", "year": "year", "amount_wan": "amount",
          "executed_wan": "executed", "goal": "goal", "actual": "actual"}
INDICATOR_PARTS = ("level1", "level2", "name", "target", "actual")
_SPACE = re.compile(r"\s+")


@dataclass
class FieldScore:
    right: int = 0
    total: int = 0  # on complete records
    filled_where_null: int = 0  # on every record

    @property
    def share(self) -> float | None:
        return round(self.right / self.total, 4) if self.total else None


@dataclass
class ParseAccuracy:
    """Per field: right / total on complete records, and fields filled where the document gives none."""

    files: int = 0
    expected: int = 0
    complete: int = 0
    matched: int = 0
    fields: dict[str, FieldScore] = field(default_factory=dict)
    indicators_right: int = 0
    indicators_total: int = 0
    indicators_found_on_fragments: int = 0
    indicators_on_fragments: int = 0
    failed_files: dict[str, str] = field(default_factory=dict)
    misses: list[dict] = field(default_factory=list)

    @property
    def indicator_share(self) -> float | None:
        return round(self.indicators_right / self.indicators_total, 4) if self.indicators_total else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fields"] = {k: dict(asdict(v), share=v.share) for k, v in self.fields.items()}
        data["indicator_share"] = self.indicator_share
        return data


def _same_text(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _SPACE.sub("", str(a)) == _SPACE.sub("", str(b))


def _same(key: str, want, got) -> bool:
    if key in ("amount_wan", "executed_wan"):
        return (want is None and got is None) or (want is not None and got is not None and abs(want - got) < 1e-4)
    if key == "year":
        return want == got
    return _same_text(want, got or None)


def _value(record: Record, key: str):
    value = getattr(record, FIELDS[key], None)
    return value if value not in ("",) else None


def _indicator(item) -> tuple:
    get = item.get if isinstance(item, dict) else lambda k: getattr(item, k, None)
    return tuple(_SPACE.sub("", get(k)) if get(k) else None for k in INDICATOR_PARTS)


def read_file(path: Path) -> list[Record]:
    """Parse one file as ``goalsearch parse`` does, without a text file's leading ``# `` description."""
    data = path.read_bytes()
    if path.suffix.lower() != ".pdf":
        text = data.decode("utf-8", "replace")
        lines = text.splitlines(keepends=True)
        marker = next((i for i, line in enumerate(lines[:30]) if line.startswith("# ----")), None)
        if marker is not None and all(line.startswith("#") for line in lines[:marker]):
            data = "".join("\n" for _ in lines[:marker + 1]).encode() + "".join(lines[marker + 1:]).encode("utf-8")
    return parse_bytes(data, path.name)[0]


def _match(expected: dict, records: list[Record], used: set[int]) -> Record | None:
    name = expected.get("name")
    if not name:
        return None
    key = _SPACE.sub("", name)
    best, best_ratio = None, 0.6
    for index, record in enumerate(records):
        if index in used:
            continue
        ratio = 1.0 if _SPACE.sub("", record.name) == key else SequenceMatcher(None, key, _SPACE.sub("", record.name)).ratio()
        if ratio > best_ratio:
            best, best_ratio = index, ratio
    if best is None:
        return None
    used.add(best)
    return records[best]


def evaluate_parsing(folder: str | Path, expected: str | Path | None = None) -> ParseAccuracy:
    """Parse the files ``expected`` names in ``folder`` and score every field (see the module docstring)."""
    folder = Path(folder)
    expected_path = Path(expected) if expected else folder / "expected.jsonl"
    try:
        lines = expected_path.read_text("utf-8").splitlines()
        wanted = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the expected records {expected_path}: {exc}") from None
    if not all(isinstance(w, dict) and isinstance(w.get("file"), str) for w in wanted):
        raise UsageError(f"{expected_path}: every line must be a JSON object with a \"file\"")
    result = ParseAccuracy(fields={key: FieldScore() for key in FIELDS})
    by_file: dict[str, list[dict]] = {}
    for item in wanted:
        by_file.setdefault(item["file"], []).append(item)
    result.files = len(by_file)
    for name, items in by_file.items():
        try:
            records = read_file(folder / name)
        except Exception as exc:  # noqa: BLE001 - a file the parser refuses scores as nothing found
            result.failed_files[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            records = []
        used: set[int] = set()
        for item in items:
            result.expected += 1
            complete = bool(item.get("complete"))
            result.complete += complete
            record = _match(item, records, used)
            result.matched += record is not None
            for key in FIELDS:
                want = item.get(key)
                got = _value(record, key) if record else None
                score = result.fields[key]
                if want is None and got is not None:
                    score.filled_where_null += 1
                    result.misses.append({"file": name, "record": item.get("name"), "field": key, "want": None, "got": got})
                if complete:
                    score.total += 1
                    if _same(key, want, got):
                        score.right += 1
                    else:
                        result.misses.append({"file": name, "record": item.get("name"), "field": key, "want": want,
                                              "got": got})
            found = [_indicator(i) for i in (record.indicators if record else [])]
            expected_indicators = [_indicator(i) for i in item.get("indicators") or []]
            hits = 0
            for indicator in expected_indicators:
                if indicator in found:
                    found.remove(indicator)
                    hits += 1
                elif complete:
                    result.misses.append({"file": name, "record": item.get("name"), "field": "indicator",
                                          "want": indicator, "got": None})
            if complete:
                result.indicators_right += hits
                result.indicators_total += len(expected_indicators)
            else:
                result.indicators_found_on_fragments += hits
                result.indicators_on_fragments += len(expected_indicators)
    return result
