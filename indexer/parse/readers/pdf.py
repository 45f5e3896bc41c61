"""The PDF reader: a PDF's text layer → lines, its ruled tables → tab rows.

pdfplumber (pdfminer.six underneath) finds each page's tables from their ruling lines
and gives their cells; the text outside the tables comes as lines, placed above, between
or below the tables by their position on the page. So a table that runs over several
pages with its header repeated comes out as the text samples have it (the header rows
again on each page, which the table parsers skip), a cell wrapped over several lines is
joined into one, and a right-aligned amount is just the text of its own cell. A blank line
separates pages, as in the text samples.

What is refused, one line each: a file that is not a PDF or is cut short, an encrypted
PDF that needs a password, and a PDF without a text layer (a scan: run OCR first; there is
no OCR here).
"""
from __future__ import annotations

import io

from ...errors import DocumentError
from .lines import Lines

_TAIL = 2048  # %%EOF must be within the last 1024 bytes; some writers add a little after it


def _join_wrapped(cell: str | None) -> str:
    """One cell's text with the line breaks of its wrapping removed.

    A break between CJK characters (or at CJK punctuation) is no space; a break between two
    Latin letters or digits was a space the wrapping took.
    """
    if not cell:
        return ""
    parts = [p.strip() for p in cell.split("\n") if p.strip()]
    text = parts[0] if parts else ""
    for part in parts[1:]:
        joiner = " " if text[-1].isascii() and text[-1].isalnum() and part[0].isascii() and part[0].isalnum() else ""
        text += joiner + part
    return text.replace("\t", " ")


def _check_bytes(data: bytes, name: str) -> None:
    if not data.strip():
        raise DocumentError(f"{name}: empty file")
    if b"%%EOF" not in data[-_TAIL:]:
        raise DocumentError(f"{name}: PDF is cut short (no %%EOF at its end); download or copy it again")


def _quiet() -> None:
    """pdfminer logs what it finds odd in a file (a font without a box …) as warnings: the report says
    what matters, in one line, and the rest would flood the terminal on a hostile file."""
    import logging

    for logger in ("pdfminer", "pdfplumber"):
        logging.getLogger(logger).setLevel(logging.ERROR)


def _open(data: bytes, name: str):
    _quiet()
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pdf.pages  # parses the page tree: a damaged file fails here
    except Exception as exc:  # pdfminer raises many kinds (PSEOF, KeyError, …) on damaged files
        # pdfplumber wraps pdfminer's exception as its first argument
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc.__cause__ or exc
        if isinstance(cause, PDFPasswordIncorrect) or "password" in str(cause).lower() or "encrypt" in str(cause).lower():
            raise DocumentError(f"{name}: encrypted PDF that needs a password; save a copy without it "
                                "(qpdf --decrypt) and parse that") from None
        raise DocumentError(f"{name}: not a readable PDF ({type(cause).__name__}); is the file damaged?") from None
    return pdf


def _page_lines(page) -> list[str]:
    """A page's text lines and table rows, top to bottom."""
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside_tables(obj) -> bool:
        if obj.get("object_type") != "char":
            return True
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    items: list[tuple[float, list[str]]] = []
    text_page = page.filter(outside_tables) if boxes else page
    for line in text_page.extract_text_lines(return_chars=False):
        items.append((line["top"], [line["text"]]))
    for table in tables:
        rows = ["\t".join(_join_wrapped(cell) for cell in row) for row in table.extract()]
        items.append((table.bbox[1], [row for row in rows if row.strip()]))
    items.sort(key=lambda item: item[0])
    return [line for _, lines in items for line in lines]


def read_pdf(data: bytes, name: str) -> Lines:
    """Read a PDF's text layer into lines, tables as tab rows; ``pages`` gives each line's page (1-based)."""
    _check_bytes(data, name)
    pdf = _open(data, name)
    lines: list[str] = []
    pages: list[int] = []
    chars = 0
    number = 0
    textless: list[int] = []
    try:
        if not pdf.pages:
            raise DocumentError(f"{name}: PDF without pages")
        for number, page in enumerate(pdf.pages, start=1):
            chars += len(page.chars)
            if not page.chars:
                textless.append(number)
            if number > 1:
                lines.append("")
                pages.append(number)
            page_lines = _page_lines(page)
            lines.extend(page_lines)
            pages.extend([number] * len(page_lines))
            page.close()  # frees the page's parsed objects: memory stays flat on long documents
        count = len(pdf.pages)
    except DocumentError:
        raise
    except Exception as exc:  # pdfplumber wraps pdfminer's exception as its first argument
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if isinstance(cause, MemoryError):
            raise MemoryError from None  # the budget's limit, reported as such (parse/budget.py)
        raise DocumentError(f"{name}: PDF page {number} of {len(pdf.pages)} cannot be read "
                            f"({type(cause).__name__}); is the file damaged?") from None
    finally:
        pdf.close()
    if not chars:
        raise DocumentError(f"{name}: PDF has no text layer (a scan?); run OCR on it first, e.g. "
                            "ocrmypdf --language chi_sim, and parse the result")
    return Lines(lines, "pdf", pages=pages, page_count=count, textless_pages=textless)
