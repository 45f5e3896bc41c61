"""PDF, HTML and other text renderings of the samples parse to the same records as the text.

Each bundled sample is rendered (``tests/renderings.py``) as a PDF with ruled tables that run
over pages with their header repeated, an HTML page with ``<table>`` markup (rowspan/colspan
headers), one cell per line ending in `` |``, markdown pipe rows and space-aligned columns; each
rendering is parsed back and compared with the text sample: names, amounts and goals (whitespace
removed) and ids.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import renderings
from goalsearch.cli import cli
from conftest import SEED
from goalsearch.indexer import parse, parse_bytes

KINDS = ("pdf", "html", "cells", "markdown", "aligned")
_SPACE = re.compile(r"\s+")


def _same(record) -> tuple:
    return record.id, _SPACE.sub("", record.name), record.amount, _SPACE.sub("", record.goal)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every sample in every rendering, written once per run: {(sample, kind): path}."""
    folder = tmp_path_factory.mktemp("renderings")
    paths = {}
    for seed, sample in SEED.items():
        text = sample.read_text("utf-8")
        paths[seed, "pdf"] = folder / f"{seed}.pdf"
        renderings.to_pdf(text, paths[seed, "pdf"])
        paths[seed, "html"] = folder / f"{seed}.html"
        paths[seed, "html"].write_text(renderings.to_html(text), "utf-8")
        for kind, render in renderings.RENDERINGS.items():
            paths[seed, kind] = folder / f"{seed}.{kind}.txt"
            paths[seed, kind].write_text(render(text), "utf-8")
    return paths


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", list(SEED))
def test_rendering_gives_the_text_samples_records(rendered, seed, kind):
    expected, _ = parse(SEED[seed])
    records, report = parse(rendered[seed, kind])
    assert report.reconciled
    got = {_same(r) for r in records}
    missing = [r for r in expected if _same(r) not in got]
    assert len(expected) - len(missing) >= 0.99 * len(expected), [r.name for r in missing]
    skipped = " ".join(s.text for s in report.skips)
    for record in missing:  # the rest is listed as skipped, never lost silently
        assert record.name[:10] in _SPACE.sub("", skipped), record.name
    assert len(records) == len(expected)
    assert report.kind == {"pdf": "pdf", "html": "html"}.get(kind, "text")


def test_pdf_table_runs_over_pages_with_its_header_repeated_and_each_page_reconciles(rendered):
    records, report = parse(rendered["gz_hrss_2024", "pdf"])
    assert report.page_count > 40
    assert len(report.pages) > 20
    for page in report.pages:
        assert page["rows_read"] == page["records"] + page["merged"] + page["skipped"], page
    header_pages = {p["page"] for p in report.pages if p["skipped"]}
    assert len(header_pages) > 20  # the header row is read again on each page and skipped
    wrapped = next(r for r in records if r.name.startswith("数据中心扩大失业保险基金") or len(r.name) > 40)
    assert "\n" not in wrapped.name and " " not in wrapped.name.strip()


@pytest.mark.parametrize("seed", ["gz_data_2026", "gz_zwfw_2026"])
def test_a_goal_cut_by_a_page_break_continues_below_the_repeated_header(rendered, seed):
    expected = {r.id: r for r in parse(SEED[seed])[0]}
    records, report = parse(rendered[seed, "pdf"])
    continued = [s for s in report.skips if s.reason.startswith("continuation of the goal")]
    assert {s.section for s in continued} == {"expenditure", "key_project"}  # one cut in each project table
    by_id = {r.id: r for r in records}
    for skip in continued:
        record = by_id[skip.merged_into]
        assert skip.text.strip()[:20] in record.goal
        headers = [h.line for h in report.skips if h.reason == "header row" and record.line < h.line < skip.line]
        assert headers, "the header is repeated between the two halves of the row"
        assert _SPACE.sub("", record.goal) == _SPACE.sub("", expected[record.id].goal)
    assert report.reconciled


def test_a_pdf_damaged_inside_names_the_page_it_cannot_read(tmp_path, rendered):
    data = rendered["gz_data_2026", "pdf"].read_bytes()
    middle = len(data) // 2
    (tmp_path / "hole.pdf").write_bytes(data[:middle] + b"\0" * 2000 + data[middle + 2000:])
    result = CliRunner().invoke(cli, ["parse", str(tmp_path / "hole.pdf")])
    assert result.exit_code == 1
    assert re.fullmatch(rf"error: {tmp_path}/hole\.pdf: PDF page \d+ of \d+ cannot be read \(\w+\); "
                        r"is the file damaged\?\n", result.stderr), result.stderr


HTML_SPANS = """<html><body><h1>2026年广州市测试中心部门预算</h1>
<h2>部门预算项目支出及其他支出预算表</h2>
<table>
<thead><tr><th rowspan="2">支出项目类别（资金使用单位）</th><th rowspan="2">总计</th><th colspan="2">财政拨款</th>
<th rowspan="2">其他资金</th><th rowspan="2">绩效目标</th></tr>
<tr><th>合计</th><th>一般公共预算</th></tr></thead>
<tbody>
<tr><td>广州市测试中心</td><td>30.00</td><td>30.00</td><td>30.00</td><td>0.00</td><td></td></tr>
<tr><td>测试系统运维项目</td><td align="right">10.00</td><td>10.00</td><td>10.00</td><td>0.00</td><td><p>保障系统</p><p>稳定运行。</p></td></tr>
<tr><td>测试平台建设项目</td><td>20.00</td><td>20.00</td><td>20.00</td><td>0.00</td><td>建成平台。</td></tr>
</tbody></table>
<p>注：无。</p></body></html>"""


def test_html_rowspan_and_colspan_headers_label_the_amounts():
    records, report = parse_bytes(HTML_SPANS.encode("utf-8"), "budget.html")
    assert [(r.name, r.amount, r.goal, r.unit) for r in records] == [
        ("测试系统运维项目", 10.0, "保障系统稳定运行。", "广州市测试中心"),
        ("测试平台建设项目", 20.0, "建成平台。", "广州市测试中心"),
    ]
    assert records[0].amounts == {"总计": 10.0, "财政拨款合计": 10.0, "一般公共预算": 10.0, "其他资金": 0.0}
    assert report.kind == "html" and report.reconciled and records[0].year == 2026


HTML_MERGED_UNIT = """<html><body><h1>2021年江门市测试局部门预算</h1><h2>部门预算项目支出及其他支出预算表</h2>
<table>
<tr><td>单位编码</td><td>单位名称</td><td>支出项目类别（资金使用单位）</td><td>总计</td><td>财政拨款</td></tr>
<tr><td rowspan="2">404011</td><td rowspan="2">江门市测试中心</td><td>网络运维项目</td><td>10.00</td><td>10.00</td></tr>
<tr><td>平台建设项目</td><td>20.00</td><td>20.00</td></tr>
<tr><td>404012</td><td>江门市测试学校</td><td>设备购置项目</td><td>5.00</td><td>5.00</td></tr>
</table></body></html>"""


def test_a_unit_cell_merged_over_several_rows_names_the_unit_of_each():
    records, report = parse_bytes(HTML_MERGED_UNIT.encode("utf-8"), "units.html")
    assert [(r.name, r.unit) for r in records] == [
        ("网络运维项目", "江门市测试中心"), ("平台建设项目", "江门市测试中心"), ("设备购置项目", "江门市测试学校")]
    assert report.reconciled


def test_a_pdf_named_file_that_is_text_is_read_as_text(tmp_path):
    path = tmp_path / "budget.pdf"
    path.write_bytes(SEED["gz_data_2026"].read_bytes())
    records, report = parse(path)
    assert report.kind == "text" and len(records) == 20


def _truncated(folder: Path, rendered) -> Path:
    data = rendered["gz_data_2026", "pdf"].read_bytes()
    (folder / "cut.pdf").write_bytes(data[: len(data) // 2])
    return folder / "cut.pdf"


def _encrypted(folder: Path, rendered) -> Path:
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(folder / "locked.pdf"), encrypt=StandardEncryption("secret", strength=128))
    page.drawString(100, 700, "budget")
    page.showPage()
    page.save()
    return folder / "locked.pdf"


def _scan(folder: Path, rendered) -> Path:
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(folder / "scan.pdf"))
    page.rect(50, 50, 400, 600, fill=1)  # an image of a page, no text layer
    page.showPage()
    page.save()
    return folder / "scan.pdf"


def _write(name: str, data: bytes):
    def make(folder: Path, rendered) -> Path:
        (folder / name).write_bytes(data)
        return folder / name
    return make


@pytest.mark.parametrize("make, message", [
    (_truncated, "cut.pdf: PDF is cut short (no %%EOF at its end); download or copy it again"),
    (_encrypted, "locked.pdf: encrypted PDF that needs a password; save a copy without it (qpdf --decrypt) and parse that"),
    (_scan, "scan.pdf: PDF has no text layer (a scan?); run OCR on it first, e.g. ocrmypdf --language chi_sim, "
            "and parse the result"),
    (_write("empty.pdf", b""), "empty.pdf: empty file"),
    (_write("header.pdf", b"%PDF-1.4\n%%EOF\n"), "header.pdf: not a readable PDF (PDFSyntaxError); is the file damaged?"),
    (_write("noise.pdf", bytes(range(256)) * 8),
     "noise.pdf: not a PDF (it does not start with %PDF-) and not text; is the file damaged or only partly downloaded?"),
    (_write("table.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
     "table.png: binary file, not a text budget document (PDF and HTML are read too; save a Word or Excel file as PDF)"),
    (_write("page.html", "<html><body><h1>通知</h1><p>本页没有表格。</p></body></html>".encode()),
     "page.html: no project table found (is this a 部门预算 document, or a 绩效目标表 or 自评表?)"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path, rendered, make, message):
    path = make(tmp_path, rendered)
    result = CliRunner().invoke(cli, ["parse", str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path}/{message}\n"
    assert "Traceback" not in result.output


def test_pages_without_a_text_layer_are_named_in_the_report(tmp_path, rendered):
    import pypdfium2

    _scan(tmp_path, rendered)
    document = pypdfium2.PdfDocument(rendered["gz_data_2026", "pdf"])
    document.import_pages(pypdfium2.PdfDocument(tmp_path / "scan.pdf"))  # a scanned page at the end
    document.save(tmp_path / "mixed.pdf")
    result = CliRunner().invoke(cli, ["parse", str(tmp_path / "mixed.pdf")], catch_exceptions=False)
    pages = len(document)
    assert result.stderr.startswith(f"mixed.pdf (PDF, {pages} pages; no text on page {pages} (blank, or scanned: "
                                    "run OCR)): 2 tables")
    assert parse(tmp_path / "mixed.pdf")[1].textless_pages == [pages]


def test_parse_report_names_the_input_kind(rendered):
    paths = [str(rendered["jm_2021", kind]) for kind in KINDS]
    result = CliRunner().invoke(cli, ["parse", *paths, "--format", "json"], catch_exceptions=False)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("jm_2021.pdf (PDF, ") and lines[0].endswith("pages with table rows]")
    assert [line.split(":")[0] for line in lines[1:]] == [
        "jm_2021.html (HTML)", "jm_2021.cells.txt (one cell per line)", "jm_2021.markdown.txt (markdown rows)",
        "jm_2021.aligned.txt (aligned columns)"]
    assert len(json.loads(result.stdout)) == 5 * 5


@pytest.mark.slow
def test_index_a_pdf_and_an_html_page_end_to_end(tmp_path, rendered):
    index_dir = tmp_path / "index"
    pdf, page = rendered["gz_data_2026", "pdf"], rendered["sz_2023", "html"]
    runner = CliRunner()
    result = runner.invoke(cli, ["index", str(pdf), str(page), "--index-dir", str(index_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "index " in result.stderr and "25 records from 2 files" in result.stderr
    found = runner.invoke(cli, ["search", "社保卡制发", "--index-dir", str(index_dir), "--format", "json", "-n", "1"],
                          catch_exceptions=False)
    top = json.loads(found.stdout)[0]
    expected = {r.name: r.id for r in parse(SEED["gz_data_2026"])[0]}
    assert top["name"] == "市人社数据服务中心社保卡制发管理服务经费" and top["id"] == expected[top["name"]]
