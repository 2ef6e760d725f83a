"""Register files on disk: CSV/XLSX bytes to text tables and back.

Validation lives in ``residents_vote.domain.register``; this module only turns
bytes into a header plus rows of text cells (in the same "escaped" form a CSV
uses, see :func:`read_table`) and writes exports that import back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from residents_vote.domain.register import (
    EXPORT_HEADER,
    FORMULA_PREFIXES,
    escape_cell,
    format_area,
)

__all__ = ["RegisterFileError", "read_table", "write_csv", "write_xlsx"]

Table = tuple[list[str | None], list[list[str | None]]]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls


class RegisterFileError(ValueError):
    """The file as a whole cannot be read; the message is one line for an operator."""


class HouseholdLike(Protocol):
    """What the exporters need from a household (a model instance or a RegisterRow)."""

    building: str
    unit: str | None
    room: str
    area: int
    owner_name: str | None
    owner_key: str | None
    phone: str | None


def read_table(filename: str, data: bytes) -> Table:
    """Return (header, data rows) of a CSV or XLSX register, every cell text or None.

    XLSX is chosen by the ``.xlsx`` suffix or the ZIP signature (browsers and
    operators mislabel files); everything else is read as CSV. Rows keep their
    position, empty ones included, so row numbers match the spreadsheet.
    """
    if not data:
        raise RegisterFileError("the file is empty")
    if data.startswith(_OLE_MAGIC):
        raise RegisterFileError(
            "old Excel .xls files are not supported; save the sheet as .xlsx or CSV"
        )
    if filename.lower().endswith((".xlsx", ".xlsm")) or data.startswith(_ZIP_MAGIC):
        rows = _read_xlsx(data)
    else:
        rows = _read_csv(data)
    if not any(value and value.strip() for row in rows for value in row):
        raise RegisterFileError("the file is empty")
    return rows[0], rows[1:]


def _decode(data: bytes) -> str:
    """UTF-8 (BOM optional) first, as it is unambiguous; then GB18030, a superset of GBK."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegisterFileError(
            "UTF-16 text is not supported; save the sheet as CSV (UTF-8) or XLSX"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RegisterFileError(
            "cannot read the file: it is neither UTF-8 nor GB18030/GBK text"
        ) from None


def _read_csv(data: bytes) -> list[list[str | None]]:
    text = _decode(data)
    if "\x00" in text:
        raise RegisterFileError("cannot read the file: it is not a CSV text file")
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise RegisterFileError(f"cannot read the CSV file: {exc}") from None


def _read_xlsx(data: bytes) -> list[list[str | None]]:
    from openpyxl import load_workbook  # heavy import, only needed for XLSX

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, XML errors...
        raise RegisterFileError(f"cannot read the XLSX file: {_short(exc)}") from None
    try:
        if not workbook.worksheets:
            raise RegisterFileError("the XLSX file has no worksheet")
        sheet = workbook.worksheets[0]
        rows: list[list[str | None]] = []
        for cells in sheet.iter_rows():
            rows.append([_xlsx_text(cell) for cell in cells])
        while rows and all(value is None for value in rows[-1]):
            rows.pop()  # read-only sheets may report trailing formatted-but-empty rows
        return rows
    except RegisterFileError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged XML
        raise RegisterFileError(f"cannot read the XLSX file: {_short(exc)}") from None
    finally:
        workbook.close()


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _xlsx_text(cell: Any) -> str | None:
    """One XLSX cell as the text a CSV of the same sheet would hold.

    Formula cells become ``"=..."`` (rejected by validation). Text cells that start
    like a formula are literal text in XLSX, so they get the CSV escape ``'`` that
    validation strips again; numbers are rendered exactly (191.39, not 191.38999...).
    """
    value = getattr(cell, "value", None)
    if value is None:
        return None
    if getattr(cell, "data_type", None) == "f":
        text = value if isinstance(value, str) else getattr(value, "text", None) or str(value)
        return text if text.startswith("=") else "=" + text
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _float_text(value: float) -> str:
    """Shortest exact decimal for a float, without exponent or a trailing ``.0``."""
    if value != value or value in (float("inf"), float("-inf")):
        return repr(value)
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _export_rows(households: Iterable[HouseholdLike]) -> Iterable[list[str]]:
    for household in households:
        yield [
            household.building,
            household.unit or "",
            household.room,
            format_area(household.area),
            household.owner_name or "",
            household.owner_key or "",
            household.phone or "",
        ]


def write_csv(households: Iterable[HouseholdLike]) -> bytes:
    """CSV export: UTF-8 with BOM (Excel on Chinese Windows needs it), formula-safe cells."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in _export_rows(households):
        writer.writerow([escape_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(households: Iterable[HouseholdLike]) -> bytes:
    """XLSX export: every cell a text cell formatted ``@``, so nothing is ever a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("register")

    def text_cell(value: str) -> WriteOnlyCell:
        # XML cannot hold most control characters; dropping them beats a failed export.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # assigning "=..." makes openpyxl guess a formula
        cell.number_format = "@"
        return cell

    sheet.append([text_cell(name) for name in EXPORT_HEADER])
    for row in _export_rows(households):
        sheet.append([text_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
