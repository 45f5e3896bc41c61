"""Property tests: damaged variants of the seed tables never crash the parser, and always reconcile."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEED
from goalsearch.indexer import DocumentError, parse_bytes, parse_text

SEED_LINES = {name: path.read_text("utf-8").splitlines() for name, path in SEED.items()}
DAMAGE = st.sampled_from(["cut", "double_header", "tag", "drop", "fffd", "spaces", "swap"])


def damage(lines: list[str], operations: list[tuple[str, int]]) -> list[str]:
    lines = list(lines)
    for operation, where in operations:
        if not lines:
            break
        i = where % len(lines)
        line = lines[i]
        if operation == "cut":
            half = len(line) // 2
            lines[i:i + 1] = [line[:half], line[half:]]
        elif operation == "double_header":
            lines.insert(i, "支出项目类别（资金使用单位）\t总计\t财政拨款\t\t\t\t财政专户拨款\t其他资金\t绩效目标")
        elif operation == "tag":
            lines[i] = "<p>" + line.replace("\t", "</p>\t<u>", 1) + "</sup>"
        elif operation == "drop":
            del lines[i]
        elif operation == "fffd":
            lines[i] = line[: len(line) // 3] + "\ufffd" + line[len(line) // 3:]
        elif operation == "spaces":
            lines[i] = " ".join(line)
        elif operation == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(sorted(SEED_LINES)), operations=st.lists(st.tuples(DAMAGE, st.integers(0, 10**6)), max_size=12))
def test_damaged_documents_never_crash_and_reconcile(seed, operations):
    text = "\n".join(damage(SEED_LINES[seed], operations))
    try:
        records, report = parse_text(text, "damaged.txt")
    except DocumentError:
        return
    assert report.reconciled
    assert len({r.id for r in records}) == len(records)
    for record in records:
        assert record.name and "\t" not in record.name


@settings(max_examples=40, deadline=None)
@given(seed=st.sampled_from(sorted(SEED_LINES)), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       cut=st.floats(0.05, 1.0))
def test_truncated_files_in_any_accepted_encoding_never_crash(seed, encoding, cut):
    data = "\n".join(SEED_LINES[seed]).encode(encoding, errors="replace")
    try:
        records, report = parse_bytes(data[: max(1, int(len(data) * cut))], "truncated.txt")
    except DocumentError:
        return
    assert report.reconciled


@settings(max_examples=30, deadline=None)
@given(seed=st.sampled_from(sorted(SEED_LINES)), line=st.integers(0, 10**6))
def test_mixed_encodings_never_crash(seed, line):
    lines = SEED_LINES[seed]
    i = line % len(lines)
    data = ("\n".join(lines[:i]).encode("utf-8") + b"\n" + lines[i].encode("gb18030", errors="replace")
            + b"\n" + "\n".join(lines[i + 1:]).encode("utf-8"))
    try:
        _, report = parse_bytes(data, "mixed.txt")
    except DocumentError:
        return
    assert report.reconciled


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_a_document_error(data):
    try:
        _, report = parse_bytes(data, "random.bin")
    except DocumentError as exc:
        assert "random.bin" in str(exc)
        return
    assert report.reconciled
