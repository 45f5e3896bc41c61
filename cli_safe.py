"""The one place where text from documents is made safe for a terminal.

A project name or goal comes from a document off the open web, and a document can hold anything:
``ESC[2J`` (clear the screen), an OSC 0 title or OSC 8 link, a carriage return that overwrites the line,
a bidi override that reverses what follows, a C1 control that some terminals read as CSI. Every byte the
CLI writes passes through here:

- ``visible`` replaces each such character by a visible stand-in of the same length (C0 controls by
  their Unicode control pictures, ``␛`` for ESC, ``␍`` for CR; C1 controls, bidi controls and other
  format characters by ``�``), so highlight ranges still line up and nothing is cut; newlines and tabs
  stay where text may wrap, and become ``␊`` / ``␉`` in a line that must stay one line;
- ``SafeConsole`` is rich's console with every segment of content passed through ``visible`` (rich's own
  control segments, its colours and cursor moves, are left alone);
- ``echo`` is ``click.echo`` for one-line messages (reports, notes, errors; a newline shows as ``␊``), ``json_text`` JSON with C1
  and bidi characters escaped (``json`` escapes C0 itself), strict (no NaN or Infinity).
"""
from __future__ import annotations

import json
import re
import unicodedata

import click
from rich.console import Console

_KEEP = {"\n", "\t"}
_OTHER = "\ufffd"


def _table(keep: set[str]) -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) not in keep:
            table[code] = chr(0x2400 + code)  # ␀ … ␟ (␛ for ESC, ␍ for CR, ␊ for LF)
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        table[code] = _OTHER
    for code in (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0x061C, 0xFEFF):
        table[code] = _OTHER  # zero-width and bidi controls: invisible, and they reorder what follows
    table[0x2028] = "\u2424"  # line separator: ␤
    table[0x2029] = "\u00b6"  # paragraph separator: ¶
    return table


_WRAPPING = _table(_KEEP)
_ONE_LINE = _table(set())


def visible(text: str, one_line: bool = False) -> str:
    """``text`` with every control, bidi and format character replaced by a visible one of the same length.

    >>> visible("名称\\x1b[2J\\u202e")
    '名称␛[2J�'
    """
    text = text.translate(_ONE_LINE if one_line else _WRAPPING)
    if text.isprintable():
        return text
    keep = set() if one_line else _KEEP  # what is left: other format, private and unassigned characters
    return "".join(ch if ch in keep or unicodedata.category(ch)[0] != "C" else _OTHER for ch in text)


_TRAILING_SPACES = re.compile(r" +(?=\n)")


class SafeConsole(Console):
    """rich's Console; the text of every content segment made ``visible`` before it is written, and lines
    without the spaces rich pads a table's last column with (invisible on a screen, noise in a file or a diff)."""

    def _render_buffer(self, buffer):  # rich's one exit for rendered text (rich 13–15)
        from rich.segment import Segment

        text = super()._render_buffer(
            segment if segment.control else Segment(visible(segment.text), segment.style, segment.control)
            for segment in buffer)
        return _TRAILING_SPACES.sub("", text)


def echo(message: str, err: bool = False) -> None:
    """A one-line message made visible: a newline inside it (from a file name, a project name, an error that
    quotes a document) is shown as ``␊``, so nothing it quotes can start a line of its own. A message of
    several lines is several calls."""
    click.echo(visible(str(message), one_line=True), err=err)


def json_text(data, indent: int | None = 2) -> str:
    """Strict JSON (a NaN or infinite number is an error, never ``NaN``) with C1, bidi and separator
    characters written as ``\\uXXXX`` escapes: the same data, nothing a terminal acts on."""
    text = json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    return "".join(f"\\u{ord(ch):04x}" if ord(ch) in _JSON_ESCAPED else ch for ch in text)


_JSON_ESCAPED = {code for code in _ONE_LINE if code >= 0x7F}  # json escapes C0 itself; the rest is ours
