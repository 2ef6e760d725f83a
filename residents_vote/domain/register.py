"""Household register rows: header matching and per-row validation.

Pure standard library so the same rules serve the CLI import, staff uploads and
tests. File formats (CSV/XLSX bytes) live in ``residents_vote.services.register_io``;
this module only sees a header and rows of text cells, and reports *every* problem
so an operator can fix a spreadsheet in one pass (imports are all-or-nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "AREA_LIMIT",
    "COLUMNS",
    "EXPORT_HEADER",
    "FORMULA_PREFIXES",
    "REQUIRED",
    "RegisterRow",
    "RowError",
    "escape_cell",
    "format_area",
    "household_code",
    "parse_area",
    "parse_register",
    "unescape_cell",
]

# field -> (English header, Chinese headers). The first Chinese name is the one our
# export writes and the one named when the column is missing.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "building": ("building", ("楼栋",)),
    "unit": ("unit", ("单元",)),
    "room": ("room", ("房号",)),
    "area": ("area", ("专有部分面积", "面积")),
    "owner_name": ("owner_name", ("业主姓名",)),
    "owner_key": ("owner_key", ("业主标识",)),
    "phone": ("phone", ("电话",)),
}
REQUIRED: frozenset[str] = frozenset({"building", "room", "area"})
EXPORT_HEADER: list[str] = ["楼栋", "单元", "房号", "专有部分面积", "业主姓名", "业主标识", "电话"]

# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
AREA_LIMIT = 1_000_000  # hundredths: areas must be < 10000 m²

# Plain ASCII digits only: Decimal() would also take "1e3", "NaN" and full-width digits.
_AREA_RE = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?$")


@dataclass(frozen=True)
class RegisterRow:
    """One valid household line of a register file."""

    row: int
    building: str
    unit: str
    room: str
    code: str
    area: int  # hundredths of m², so sums are exact
    owner_name: str
    owner_key: str
    phone: str


@dataclass(frozen=True)
class RowError:
    """One problem, located as a spreadsheet shows it (CONTRACT.md error lines)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


def household_code(building: str, unit: str, room: str) -> str:
    """The public household code: ``building-unit-room``, or ``building-room`` without unit."""
    return f"{building}-{unit}-{room}" if unit else f"{building}-{room}"


def mask_phone(phone: str) -> str:
    """`*******5678`: a phone as pages and lists show it, its last four digits only
    (CONTRACT.md "Text messages"); an empty phone stays empty."""
    digits = (phone or "").strip()
    return "*******" + digits[-4:] if digits else ""


def format_area(hundredths: int) -> str:
    """Render hundredths of m² with exactly two decimals (export and display)."""
    sign = "-" if hundredths < 0 else ""
    whole, frac = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{frac:02d}"


def parse_area(text: str) -> int:
    """Parse a decimal m² string into hundredths; ValueError carries the English reason.

    Trailing zeros beyond two decimals (``88.500``) are accepted: the value is still
    exact in hundredths, and spreadsheets sometimes pad decimals that way.
    """
    text = text.strip()
    if not text:
        raise ValueError("required, must not be empty")
    match = _AREA_RE.match(text)
    if match is None or not (match.group(2) or match.group(3)):
        raise ValueError(f'not a number: "{text}" (expected square metres such as 88.50)')
    sign, whole, frac = match.group(1), match.group(2) or "0", match.group(3) or ""
    significant = frac.rstrip("0")
    if len(significant) > 2:
        raise ValueError(f'at most 2 decimal places allowed, got "{text}"')
    whole = whole.lstrip("0") or "0"
    if sign == "-" and whole + significant != "0":
        raise ValueError(f'must be greater than 0, got "{text}"')
    # Check the length before int(): huge digit strings would hit Python's int limit.
    value = AREA_LIMIT if len(whole) > 4 else int(whole) * 100 + int((significant + "00")[:2])
    if value <= 0 or sign == "-":
        raise ValueError(f'must be greater than 0, got "{text}"')
    if value >= AREA_LIMIT:
        raise ValueError(f'must be less than 10000 m², got "{text}"')
    return value


def escape_cell(value: str) -> str:
    """Neutralise formula injection in an exported CSV cell with one leading ``'``."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def unescape_cell(value: str) -> str:
    """Undo :func:`escape_cell`: strip exactly one ``'`` that precedes a formula prefix."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for field, (english, chinese) in COLUMNS.items():
        lookup[english.casefold()] = field
        for name in chinese:
            lookup[name] = field
    return lookup


_HEADER_LOOKUP = _header_lookup()


def _match_header(
    header: Sequence[str | None],
) -> tuple[dict[str, tuple[int, str]], list[RowError]]:
    """Map field -> (column index, header as written); errors are row-1 problems."""
    found: dict[str, tuple[int, str]] = {}
    errors: list[RowError] = []
    for index, raw in enumerate(header):
        name = (raw or "").strip()
        if not name:
            continue
        field = _HEADER_LOOKUP.get(name) or _HEADER_LOOKUP.get(name.casefold())
        if field is None:
            continue  # extra columns are ignored
        if field in found:
            # Two columns for one field (e.g. 面积 and 专有部分面积): guessing could
            # silently import the wrong numbers, so make the operator choose.
            errors.append(
                RowError(1, name, f"column appears twice (same as column {found[field][1]})")
            )
            continue
        found[field] = (index, name)
    for field in COLUMNS:
        if field in REQUIRED and field not in found:
            errors.append(RowError(1, COLUMNS[field][1][0], "missing required column"))
    return found, errors


def _cell(row: Sequence[str | None], index: int) -> str:
    if index >= len(row):
        return ""
    value = row[index]
    return "" if value is None else str(value).strip()


# The register's database columns: longer text is a row error, not a database failure.
MAX_LENGTH = {
    "building": 32,
    "unit": 32,
    "room": 32,
    "owner_name": 200,
    "owner_key": 100,
    "phone": 50,
}


def _check_cells(
    cells: Sequence[str | None], ordered: list[tuple[str, tuple[int, str]]]
) -> tuple[dict[str, str], dict[str, str]]:
    """Cell-level rules for one row: returns (field -> text, field -> error message)."""
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for field, (index, _name) in ordered:
        text = _cell(cells, index)
        if text.startswith("="):
            # A raw "=" is a spreadsheet formula whose value we never see; an escaped
            # "'=" (our own export) is literal text and passes below.
            problems[field] = "formula not allowed"
            continue
        text = unescape_cell(text)
        values[field] = text
        limit = MAX_LENGTH.get(field)
        if limit is not None and len(text) > limit:
            problems[field] = f"too long: at most {limit} characters, got {len(text)}"
            continue
        if field in ("building", "unit", "room"):
            if not text and field in REQUIRED:
                problems[field] = "required, must not be empty"
            elif "-" in text:
                problems[field] = f'must not contain "-", got "{text}"'
        elif field == "area":
            try:
                parse_area(text)
            except ValueError as exc:
                problems[field] = str(exc)
    return values, problems


def parse_register(
    header: list[str | None],
    rows: Iterable[list[str | None]],
    *,
    first_row: int = 2,
) -> tuple[list[RegisterRow], list[RowError]]:
    """Validate a register table; return the valid rows and every problem, in row order.

    Callers must refuse the whole file when any error is returned (CONTRACT.md:
    all-or-nothing); the valid rows are returned anyway for previews and counts.
    """
    columns, errors = _match_header(header)
    result: list[RegisterRow] = []
    seen: dict[str, int] = {}
    # Column order in the file decides the order of several errors on one row.
    ordered = sorted(columns.items(), key=lambda item: item[1][0])
    code_fields = {"building", "room"} | ({"unit"} if "unit" in columns else set())
    has_code_columns = code_fields <= columns.keys()

    for number, cells in enumerate(rows, start=first_row):
        if all(value is None or not str(value).strip() for value in cells):
            continue
        values, problems = _check_cells(cells, ordered)
        code = ""
        if has_code_columns and not (code_fields & problems.keys()):
            code = household_code(values["building"], values.get("unit", ""), values["room"])
            if code in seen:
                problems["room"] = f"duplicate of row {seen[code]} ({code})"
            else:
                seen[code] = number
        row_errors = sorted(
            (
                (columns[field][0], RowError(number, columns[field][1], message))
                for field, message in problems.items()
            ),
            key=lambda item: item[0],
        )
        if row_errors:
            errors.extend(error for _index, error in row_errors)
            continue
        if not REQUIRED <= columns.keys():
            continue  # header already reported; nothing complete to return
        result.append(
            RegisterRow(
                row=number,
                building=values["building"],
                unit=values.get("unit", ""),
                room=values["room"],
                code=code,
                area=parse_area(values["area"]),
                owner_name=values.get("owner_name", ""),
                owner_key=values.get("owner_key", "") or code,
                phone=values.get("phone", ""),
            )
        )
    return result, errors


def part_key(part: str) -> tuple:
    """Order building/unit/room parts as people read them: 2 before 10, 201 before 1001;
    an empty unit first. The same order on every database, whatever its collation."""
    if not part:
        return (-1, 0, "")
    return (0, int(part), "") if part.isdigit() else (1, 0, part)


def code_sort_key(code: str) -> tuple:
    """Natural order of household codes (see part_key)."""
    return tuple(part_key(part) for part in code.split("-"))
