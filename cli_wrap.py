"""Line breaking by the rules of Chinese text, for every wrapped line the CLI prints.

A terminal line is cut by display cells (a CJK character is two), and where it is cut follows the
Unicode line breaking algorithm (UAX #14, from ``uniseg``): no line starts with closing punctuation
(``、，。；》）``), none ends with opening punctuation (``《（``), and a number, a year span or a Latin
word (``（2022-2025）``, ``99.9%``, ``IPv6``) stays whole. Only a run longer than the whole line is
folded where it must be. ``lines`` keeps rich styles (the marked query words) across the cuts.
"""
from __future__ import annotations

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
