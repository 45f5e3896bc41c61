"""Line breaking by the rules of Chinese text, for every wrapped line the CLI prints.

A terminal line is cut by display cells (a CJK character is two), and where it is cut follows the
Unicode line breaking algorithm (UAX #14, from ``uniseg``): no line starts with closing punctuation
(``、，。；》）``), none ends with opening punctuation (``《（``), and a number, a year span or a Latin
word (``（2022-2025）``, ``99.9%``, ``IPv6``) stays whole. Only a run longer than the whole line is
folded where it must be. ``lines`` keeps rich styles (the marked query words) across the cuts.
"""
from __future__ import annotations

import click
from rich.cells import cell_len
from rich.text import Text
from uniseg.linebreak import line_break_units


def break_offsets(text: str, width: int) -> list[int]:
    """Where to cut ``text`` (character offsets) so that no line is wider than ``width`` cells."""
    offsets: list[int] = []
    position = 0
    for paragraph in text.split("\n"):
        used = 0
        for unit in line_break_units(paragraph) if paragraph else ():
            shown = cell_len(unit.rstrip())
            if used and used + shown > width:
                offsets.append(position)
                used = 0
            if shown > width:  # longer than a line: fold it by characters
                for ch in unit:
                    if used and used + cell_len(ch) > width:
                        offsets.append(position)
                        used = 0
                    used += cell_len(ch)
                    position += 1
                continue
            used += cell_len(unit)
            position += len(unit)
        position += 1  # the newline
        if position <= len(text):
            offsets.append(position)
    return sorted({o for o in offsets if 0 < o < len(text)})


def stops(text: str) -> list[int]:
    """The offsets where a line may break in ``text`` (UAX #14), 0 and ``len(text)`` included: a cut made at
    one never splits a number or a Latin word, nor leaves closing punctuation at the start of a piece."""
    out = [0]
    for unit in line_break_units(text) if text else ():
        out.append(out[-1] + len(unit))
    return out


def shorten(text: str, width: int, rows: int) -> str:
    """``text`` in at most ``rows`` lines of ``width`` cells, cut at a break opportunity, ``…`` where it is cut."""
    pieces = wrap(text, width)
    if len(pieces) <= rows:
        return text
    offsets = break_offsets(text, width)
    start = offsets[rows - 2] if rows > 1 else 0
    last = [stop for stop in stops(text) if start < stop and cell_len(text[start:stop].rstrip()) <= width - 1]
    end = last[-1] if last else start + 1
    return text[:end].rstrip() + "…"


def lines(text: Text, width: int) -> list[Text]:
    """``text`` cut into lines of at most ``width`` cells, styles kept, line ends and newlines stripped."""
    width = max(2, width)
    parts = text.divide(break_offsets(text.plain, width)) if text.plain else [text]
    out = []
    for part in parts:
        part.rstrip()
        if part.plain.endswith("\n"):
            part.right_crop(1)
        out.append(part)
    return out


def wrap(text: str, width: int) -> list[str]:
    """Plain ``text`` cut into lines of at most ``width`` cells."""
    return [line.plain for line in lines(Text(text), width)]


def output_columns(stream) -> int | None:
    """How wide to lay out what goes to ``stream``: ``None`` on a terminal (rich measures it), else ``$COLUMNS``,
    else the width of the terminal stderr is on (``goalsearch search … | less`` from a terminal), else 80.

    A pipe has no width of its own; laying it out for a wide screen made snippets wrap into column 0 and
    table rows take two lines in ``less`` on an ordinary terminal.
    """
    import sys

    if _isatty(stream):
        return None
    others = [other for other in (sys.stderr, sys.stdout) if other is not stream and _isatty(other)]
    return terminal_columns(others[0]) if others else _columns_set() or 80


def terminal_columns(stream) -> int:
    """The width of the terminal ``stream`` is on: ``$COLUMNS`` when set (as rich and shutil take it), else the
    terminal's own, else 80. A pseudo-terminal that reports 0 columns (a fresh ``script`` or container) is 80:
    wrapping at 0 put every two characters on a line of their own."""
    import os

    try:
        own = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        own = 0
    return _columns_set() or own or 80


def _columns_set() -> int | None:
    """``$COLUMNS`` when it is a positive number."""
    import os

    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def fill_words(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """Help text (English with Chinese terms in it) cut at its spaces only, measured in cells, each line led by
    ``first`` or ``rest``: a term such as ``部门预算`` or an option such as ``--other-years`` is never split.
    Only a word longer than a whole line is cut, by ``wrap`` (UAX #14)."""
    out: list[str] = []
    line, used = first, cell_len(first)
    for word in text.replace("\n", " ").split(" "):  # a no-break space (``3,047\u00a0KiB``) holds its words together
        if not word:
            continue
        size = cell_len(word)
        if line.strip() and used + 1 + size > width:
            out.append(line)
            line, used = rest, cell_len(rest)
        if size > width - used:  # alone on a line and still too long
            pieces = wrap(word, max(2, width - used))
            for piece in pieces[:-1]:
                out.append(line + piece)
                line, used = rest, cell_len(rest)
            word, size = pieces[-1], cell_len(pieces[-1])
        sep = " " if line.strip() else ""
        line, used = line + sep + word, used + len(sep) + size
    if line.strip() or not out:
        out.append(line)
    return out


def wrap_help(text: str, width: int, indent: str = "") -> str:
    """click's ``wrap_text(..., preserve_paragraphs=True)`` by display cells: paragraphs (split by blank lines)
    are refilled; a paragraph after a ``\\b`` line is kept line for line, a line wider than ``width`` folded at
    its spaces under a deeper indent, with a shell's `` \\`` at the end of each folded piece."""
    paragraphs: list[str] = []
    for block in text.expandtabs().split("\n\n"):
        block_lines = [line for line in block.split("\n") if line.strip()]
        if not block_lines:
            continue
        if block_lines[0].strip() == "\b":
            kept = []
            for line in block_lines[1:]:  # examples: a folded command line ends in `` \\``, so it still pastes
                lead = indent + line[:len(line) - len(line.lstrip())]
                folded = fill_words(line, width - 2, lead, lead + "    ")
                kept += [piece + " \\" for piece in folded[:-1]] + folded[-1:]
            paragraphs.append("\n".join(kept))
        else:
            lead = indent + block_lines[0][:len(block_lines[0]) - len(block_lines[0].lstrip())]
            paragraphs.append("\n".join(fill_words(" ".join(block_lines), width, lead, lead)))
    return "\n\n".join(paragraphs)


class HelpFormatter(click.HelpFormatter):
    """click's help formatter measuring by display cells (a CJK character takes two), breaking at spaces.

    click wraps by ``len()``: Chinese help ran past the right edge, where the terminal cut it mid-word. The
    width follows ``output_columns`` (a pipe from a terminal: the terminal's width), at most ``max_width``.
    """

    def __init__(self, indent_increment: int = 2, width: int | None = None, max_width: int | None = None) -> None:
        if width is None and click.formatting.FORCED_WIDTH is None:
            import shutil
            import sys

            columns = output_columns(sys.stdout) or shutil.get_terminal_size().columns
            width = max(min(columns, max_width or 80) - 2, 40)
        super().__init__(indent_increment, width, max_width)

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        head = f"{prefix or 'Usage: ':>{self.current_indent}}{prog} "
        lead = " " * min(cell_len(head), self.width // 2)
        self.write("\n".join(fill_words(args, self.width, head.rstrip(), lead)) + "\n")

    def write_text(self, text: str) -> None:
        self.write(wrap_help(text, self.width, " " * self.current_indent) + "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [tuple(row) + ("",) * (2 - len(row)) for row in rows]
        first_col = min(max((cell_len(first) for first, _ in rows), default=0), col_max) + col_spacing
        margin = " " * self.current_indent
        for first, second in rows:
            if not second:
                self.write(f"{margin}{first}\n")
                continue
            lead = margin + " " * first_col
            text = wrap_help(second, self.width, lead).split("\n")
            if cell_len(first) <= first_col - col_spacing:
                text[0] = margin + first + text[0][cell_len(margin + first):]
            else:
                self.write(f"{margin}{first}\n")
            self.write("\n".join(text) + "\n")


class Context(click.Context):
    """click's context with the cell-measuring ``HelpFormatter``."""

    formatter_class = HelpFormatter


class Command(click.Command):
    context_class = Context
