"""Document metadata: year, department and city.

Year and department come from the title page (``2026年 广州市…部 门预算``), with
the ``单位名称：`` / ``部门名称：`` lines as fallback. Cities come from the cpca
gazetteer (China's administrative divisions), never from a hand-written list.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from .text import squash

_TITLE = re.compile(r"((?:19|20)\d{2})年(?:度)?(.{2,60}?)(?:部门|单位)预算")
_NAME_LINE = re.compile(r"^(?:单位名称|部门名称|部门（单位）名称)[:：]\s*(.+)$")


@dataclass
class DocumentMeta:
    """What the title page says about a document."""

    year: int | None
    department: str


def document_meta(lines: list[str]) -> DocumentMeta:
    """Year and department of a budget document."""
    head = squash("".join(line for line in lines[:12] if not line.lstrip().startswith("-")).replace("#", ""))
    match = _TITLE.search(head)
    year = int(match.group(1)) if match else None
    department = match.group(2) if match else ""
    if not department:
        for line in lines:
            named = _NAME_LINE.match(line.strip())
            if named:
                department = squash(named.group(1))
                break
    if year is None:
        years = re.search(r"((?:19|20)\d{2})\s*年", "\n".join(lines[:40]))
        year = int(years.group(1)) if years else None
    return DocumentMeta(year, department)


@lru_cache(maxsize=4096)
def place_of(name: str) -> tuple[str | None, str | None]:
    """(province, city) named in an organisation's name, or (None, None).

    >>> place_of("广州市人力资源和社会保障局")
    ('广东省', '广州市')
    """
    if not name:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca  # imported late: it loads pandas and its gazetteer (~0.5 s)
    matches = list(cpca.matcher.iter(name))
    if not _names_a_place(matches):
        return None, None
    frame = cpca.transform([name])
    as_text = lambda value: value if isinstance(value, str) and value else None  # noqa: E731
    province, city, county = (as_text(frame.iloc[0][column]) for column in ("省", "市", "区"))
    # a municipality named in full is its own city (北京市财政局); 北京 in 北京大学深圳医院 is not a place of the unit
    named_in_full = any(match.origin_value == province for match in matches)
    if city in _NOT_A_CITY or (city is None and province and province.endswith("市") and named_in_full):
        if province and province.endswith("市"):  # a municipality's body, or its districts (上海市普陀区)
            city = province
        else:  # a county-level city under the province itself (仙桃市, 阿拉尔市)
            city = county if county and county.endswith("市") else None
    return province, city


def first_place(*names: str) -> tuple[str | None, str | None]:
    """(province, city) of the first name that names a city (a unit, its department, who filed a form:
    ``县民宗委`` names none, ``奉节县云雾土家族乡人民政府`` does), else the first province named."""
    province_only = (None, None)
    for name in filter(None, names):
        province, city = place_of(name)
        if city:
            return province, city
        if province and not province_only[0]:
            province_only = (province, None)
    return province_only


# What the gazetteer puts in the city column where there is no prefecture-level city.
_NOT_A_CITY = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_PROVINCE_OR_CITY = (0, 1)  # cpca's ranks: 0 province, 1 prefecture-level city, 2 county or district


def _names_a_place(matches) -> bool:
    """Does the name name a place, rather than leave the gazetteer to guess one? A province or a city named,
    in full or as it is called (广东, 广州; not one of the gazetteer's placeholders: ``县财政局`` is not 重庆市's
    "县"), or a county or district named in full whose name is one place in China (天河区, 仙桃市).
    ``朝阳区教育局`` could be in 北京 or 长春, so a name that holds only such a district gives no place; nor does
    a county's name without its suffix, which is mostly another word (合作 in 供销合作社, 东方 in 东方红)."""
    return any(match.origin_value not in _NOT_A_CITY if match.get_rank() in _PROVINCE_OR_CITY
               else len(match.attr_infos) == 1 and match.origin_value == match.attr_infos[0].name
               for match in matches)

