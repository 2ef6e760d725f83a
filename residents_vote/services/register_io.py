"""Register files on disk: CSV/XLSX bytes to text tables and back.

Validation lives in ``residents_vote.domain.register``; this module only turns
bytes into a header plus rows of text cells (in the same "escaped" form a CSV
uses, see :func:`read_table`) and writes exports that import back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any, Protocol

from residents_vote.domain.register import (
    EXPORT_HEADER,
    FORMULA_PREFIXES,
    escape_cell,
    format_area,
)

__all__ = ["RegisterFileError", "read_table", "write_csv", "write_xlsx"]

Table = tuple[list[str | None], list[list[str | None]]]

# CONTRACT.md `households import`: each refusal is one line naming its limit, and comes
# within seconds: the size is known before reading, an XLSX's unpacked size is declared in
# its zip directory (and the zip reader never unpacks more than declared), and rows are
# read only up to the limit.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_DATA_ROWS = 20_000
# Empty rows are not data rows, but a sheet may not hide an unbounded number of them (a
# 634 KB XLSX can declare a million): reading stops this many rows past the limit.
MAX_EMPTY_ROWS = 1_000
# Columns read from the register sheet (extra columns are ignored anyway); without a cap,
# one cell in column XFD would make every row 16,384 cells wide in memory.
MAX_COLUMNS = 100
# Cells in one sheet part, counted before openpyxl parses it (a few seconds at most).
MAX_CELLS = 1_000_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls


class RegisterFileError(ValueError):
    """The file as a whole cannot be read; the message is one line for an operator."""


def check_size(size: int) -> None:
    """Refuse a register file larger than the limit, before it is read."""
    if size > MAX_FILE_BYTES:
        raise RegisterFileError(
            f"the file is too large: {size:,} bytes; the limit is 5 MB ({MAX_FILE_BYTES:,} bytes)"
        )


def _too_many_rows() -> RegisterFileError:
    return RegisterFileError(
        f"the file has more than {MAX_DATA_ROWS:,} data rows; the limit is {MAX_DATA_ROWS:,}"
    )


def _limited(rows: Iterable[list[str | None]]) -> list[list[str | None]]:
    """The rows (header first) up to the data-row limit; stop reading beyond it."""
    result: list[list[str | None]] = []
    data = 0
    for row in rows:
        result.append(row)
        if len(result) == 1:
            continue
        if any(value and value.strip() for value in row):
            data += 1
            if data > MAX_DATA_ROWS:
                raise _too_many_rows()
        if len(result) > 1 + MAX_DATA_ROWS + MAX_EMPTY_ROWS:
            raise _too_many_rows()
    return result


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
    check_size(len(data))
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
        return _limited(list(row) for row in csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RegisterFileError(f"cannot read the CSV file: {exc}") from None


def _read_xlsx(data: bytes) -> list[list[str | None]]:
    from openpyxl import load_workbook  # heavy import, only needed for XLSX

    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, XML errors...
        raise RegisterFileError(f"cannot read the XLSX file: {_short(exc)}") from None
    try:
        if not workbook.worksheets:
            raise RegisterFileError("the XLSX file has no worksheet")
        sheet = workbook.worksheets[0]
        rows = _limited(_xlsx_rows(sheet))
        while rows and all(value is None for value in rows[-1]):
            rows.pop()  # read-only sheets may report trailing formatted-but-empty rows
        return rows
    except RegisterFileError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged XML
        raise RegisterFileError(f"cannot read the XLSX file: {_short(exc)}") from None
    finally:
        workbook.close()


def _check_unpacked_size(data: bytes) -> None:
    """Refuse an XLSX whose parts unpack to more than the limit (a zip bomb), from the
    sizes its zip directory declares (the zip reader never unpacks more than declared),
    then every sheet-like part that openpyxl would scan in full (see _check_part)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            unpacked = sum(info.file_size for info in parts)
            if unpacked > MAX_UNPACKED_BYTES:
                raise RegisterFileError(
                    f"the XLSX file unpacks to {unpacked:,} bytes; the limit is 50 MB "
                    f"({MAX_UNPACKED_BYTES:,} bytes)"
                )
            for info in parts:
                if info.filename.lower().endswith(".xml"):
                    with archive.open(info) as part:
                        _check_part(part)
    except RegisterFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError) as exc:
        raise RegisterFileError(f"cannot read the XLSX file: {_short(exc)}") from None


_TAG = rb"<(?:[A-Za-z_][\w.-]{0,31}:)?"
_ROW_TAG = re.compile(_TAG + rb"row[\s/>]")
_CELL_TAG = re.compile(_TAG + rb"c[\s/>]")
_DIMENSION_TAG = re.compile(_TAG + rb"dimension[\s/>]")
_SHEET_DATA_TAG = re.compile(_TAG + rb"sheetData[\s/>]")


def _check_part(part: IO[bytes]) -> None:
    """Count the rows and cells of one XML part without parsing it, and stop early.

    openpyxl (read-only) opens every sheet of a workbook and, when a sheet declares no
    <dimension>, parses all of its rows just to size it: a million empty rows take
    longer than a worker may run. Sheets that declare their dimension are read lazily
    and stopped by the row limit instead; cells are capped in every part.
    """
    tail = b""
    rows = cells = 0
    dimension: bool | None = None  # unknown until <dimension> or <sheetData> is seen
    while chunk := part.read(1 << 20):
        buffer = tail + chunk
        # A tag never contains "<" after its first byte: cut before the last "<" so that
        # no tag is split between two chunks (nor counted twice).
        cut = buffer.rfind(b"<")
        if cut < 0 or len(buffer) - cut > 64:
            cut = len(buffer)
        done, tail = buffer[:cut], buffer[cut:]
        if dimension is None:
            dim = _DIMENSION_TAG.search(done)
            data = _SHEET_DATA_TAG.search(done)
            if dim and (not data or dim.start() < data.start()):
                dimension = True
            elif data:
                dimension = False
        cells += len(_CELL_TAG.findall(done))
        if cells > MAX_CELLS:
            raise RegisterFileError(
                f"the XLSX file has a sheet with more than {MAX_CELLS:,} cells; "
                f"the limit is {MAX_DATA_ROWS:,} data rows"
            )
        if dimension is not True:
            rows += len(_ROW_TAG.findall(done))
            if rows > 1 + MAX_DATA_ROWS + MAX_EMPTY_ROWS:
                raise _too_many_rows()


def _xlsx_rows(sheet: Any) -> Iterator[list[str | None]]:
    declared = sheet.max_column  # from the sheet's <dimension>, None if it has none
    if declared is not None and declared <= MAX_COLUMNS:
        for cells in sheet.iter_rows(max_col=declared):
            yield [_xlsx_text(cell) for cell in cells]
        return
    for cells in sheet.iter_rows(max_col=MAX_COLUMNS):
        row = [_xlsx_text(cell) for cell in cells]
        while row and row[-1] is None:
            row.pop()  # as wide as its last cell, as openpyxl reads a sheet of unknown size
        yield row


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
