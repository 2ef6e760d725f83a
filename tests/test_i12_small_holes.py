"""Issue 12 item 12: small holes.

- Register import limits (CONTRACT.md `households import`): at most 20,000 data rows and
  5 MB; an XLSX whose unpacked parts exceed 50 MB is refused too; each refusal exits 1
  within seconds with one line naming the limit; the same limits on the staff upload page.
- Ballot tokens and receipt codes masked in logs also when percent-encoded.
- Register exports audited (who, when, format; never names or phones in the event).
- A path id too large for the database answers 404, not 500, on every route with an int id.
- Receipt-check failures limited to 60 per 15 minutes per client address.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import runpy
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from residents_vote import create_app
from residents_vote.models import AuditEvent
from tests import factories
from tests.helpers import (
    TEST_CONFIG,
    count,
    csrf_token,
    login,
    make_user,
    public_id,
    read,
    snapshot,
)

ROOT = Path(__file__).resolve().parents[1]
HEADER = "building,unit,room,area,owner_name,phone\n"

# --- register files that are too big -------------------------------------------------------

OOXML = "http://schemas.openxmlformats.org"
RELS = f"{OOXML}/package/2006/relationships"
DOC_RELS = f"{OOXML}/officeDocument/2006/relationships"
SHEET_ML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
CONTENT_TYPES = (
    f'{XML_DECL}<Types xmlns="{OOXML}/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_ML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_ML}.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'{XML_DECL}<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'{XML_DECL}<workbook xmlns="{OOXML}/spreadsheetml/2006/main" xmlns:r="{DOC_RELS}">'
    '<sheets><sheet name="register" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'{XML_DECL}<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def _row(number: int, *values: str) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
    return f'<row r="{number}">{cells}</row>'


def xlsx(sheet_rows: str, dimension: str = "", **extra_parts: bytes) -> bytes:
    """A minimal XLSX (inline strings, no styles) whose first sheet holds `sheet_rows`."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        f'{XML_DECL}<worksheet xmlns="{OOXML}/spreadsheetml/2006/main">'
        f"{declared}<sheetData>{sheet_rows}</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in extra_parts.items():
            z.writestr(name, data)
    return buffer.getvalue()


def million_empty_rows() -> bytes:
    """A header, one household, then 1,000,000 empty <row/> elements: a few KB zipped."""
    header = _row(1, "building", "room", "area") + _row(2, "1", "101", "50")
    return xlsx(header + "<row/>" * 1_000_000)


def million_rows_declared() -> bytes:
    """The same million empty rows, the sheet declaring its (huge) dimension."""
    header = _row(1, "building", "room", "area") + _row(2, "1", "101", "50")
    return xlsx(header + "<row/>" * 1_000_000, dimension="A1:XFD1048576")


def row_far_below() -> bytes:
    """A sheet that declares row 1,000,000 (openpyxl yields every empty row up to it)."""
    return xlsx(
        _row(1, "building", "room", "area") + _row(2, "1", "101", "50") + _row(1_000_000, "1")
    )


def big_unpacked() -> bytes:
    """A valid register whose parts unpack to more than 50 MB (a zip bomb in a side part)."""
    header = _row(1, "building", "room", "area") + _row(2, "1", "101", "50")
    return xlsx(header, **{"xl/media/padding.xml": b" " * (51 * 1024 * 1024)})


def csv_rows(n: int) -> bytes:
    return (HEADER + "".join(f"{1 + i // 1000},1,{i % 1000 + 1},50,,\n" for i in range(n))).encode()


@pytest.fixture
def hx(app):
    factories.community(app, "hx", rows=None)
    return "hx"


def refused_in_one_line(result, *fragments: str) -> None:
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("make", [million_empty_rows, million_rows_declared, row_far_below])
def test_a_million_row_xlsx_is_refused_within_10_seconds(app, runner, hx, tmp_path, make):
    data = make()
    assert len(data) < 634 * 1024, "the test file is at least as compact as the reported one"
    path = tmp_path / "register.xlsx"
    path.write_bytes(data)
    before = snapshot(app)
    started = time.monotonic()
    result = runner.invoke(args=["households", "import", hx, str(path)])
    elapsed = time.monotonic() - started
    refused_in_one_line(result, "20,000")
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert snapshot(app) == before


def test_an_xlsx_that_unpacks_to_more_than_50_mb_is_refused(app, runner, hx, tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(big_unpacked())
    assert path.stat().st_size < 5 * 1024 * 1024
    before = snapshot(app)
    started = time.monotonic()
    result = runner.invoke(args=["households", "import", hx, str(path)])
    refused_in_one_line(result, "50 MB")
    assert time.monotonic() - started < 10
    assert snapshot(app) == before


def test_more_than_20000_data_rows_are_refused(app, runner, hx, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(csv_rows(20_001))
    before = snapshot(app)
    refused_in_one_line(runner.invoke(args=["households", "import", hx, str(path)]), "20,000")
    assert snapshot(app) == before
    # Exactly 20,000 is within the limit (a few trailing empty lines do not count).
    path.write_bytes(csv_rows(20_000) + b"\n,,,,,\n\n")
    result = runner.invoke(args=["households", "import", hx, str(path), "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "dry run: added 20000, updated 0, unchanged 0"


def test_xlsx_with_more_than_20000_data_rows_is_refused(app, runner, hx, tmp_path):
    rows = _row(1, "building", "room", "area") + "".join(
        _row(n, "1", str(n), "50") for n in range(2, 20_003)
    )
    path = tmp_path / "register.xlsx"
    path.write_bytes(xlsx(rows))
    refused_in_one_line(runner.invoke(args=["households", "import", hx, str(path)]), "20,000")


def test_a_file_over_5_mb_is_refused(app, runner, hx, tmp_path):
    # Few rows, but a long ignored column: the file itself is too large.
    pad = "x" * 1000
    body = "building,room,area,note\n" + "".join(f"1,{n},50,{pad}\n" for n in range(1, 5300))
    path = tmp_path / "register.csv"
    path.write_bytes(body.encode())
    assert path.stat().st_size > 5 * 1024 * 1024
    before = snapshot(app)
    refused_in_one_line(runner.invoke(args=["households", "import", hx, str(path)]), "5 MB")
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("name", "make", "fragment"),
    [
        ("register.xlsx", million_empty_rows, "20,000"),
        ("register.xlsx", big_unpacked, "50 MB"),
        ("register.csv", lambda: csv_rows(20_001), "20,000"),
        ("register.csv", lambda: b"building,room,area\n" + b"1,1,50\n" * 900_000, "5 MB"),
    ],
)
def test_the_staff_upload_page_has_the_same_limits(app, client, name, make, fragment):
    factories.community(app, "hx", rows=None)
    factories.staff_user(app, "staff1", ("hx",))
    assert login(client, "staff1").status_code == 303
    client.set_cookie("lang", "en")
    token = csrf_token(client.get("/staff/c/hx").get_data(as_text=True))
    content = make()
    started = time.monotonic()
    response = client.post(
        "/staff/c/hx/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert time.monotonic() - started < 10
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert fragment in html and 'name="payload"' not in html


# --- tokens and receipt codes masked in logs, percent-encoded too -----------------------------

TOKEN = "AbC-12_xyZ9876543210"
ENCODED_TOKEN = "".join(f"%{ord(c):02X}" for c in TOKEN)  # every character escaped
MIXED_TOKEN = "AbC%2D12_xyZ987%36543210"
RECEIPT = "AB12-CD34-EF56"

LEAKY_REQUESTS = [
    f"GET /b/{ENCODED_TOKEN} HTTP/1.1",
    f"GET /b/{MIXED_TOKEN}?lang=en HTTP/1.1",
    f"GET /%62/{TOKEN} HTTP/1.1",
    f"GET /b%2F{TOKEN} HTTP/1.1",
    f"POST /b/{ENCODED_TOKEN}/objections HTTP/1.1",
    f"GET /r/pub/receipt?%63ode={RECEIPT} HTTP/1.1",
    "GET /r/pub/receipt?lang=en&code=AB12%2DCD34%2DEF56 HTTP/1.1",
    f"GET /r/pub/receipt?c%6Fde={RECEIPT}&lang=en HTTP/1.1",
    f"GET /r/pub/receipt?code%3D{RECEIPT} HTTP/1.1",
]
SECRETS = (TOKEN, ENCODED_TOKEN, MIXED_TOKEN, RECEIPT, "AB12%2DCD34", "xyZ987", "CD34")


@pytest.mark.parametrize("request_line", LEAKY_REQUESTS)
def test_development_server_log_masks_percent_encoded_tokens(request_line):
    from residents_vote.web import TokenMaskingFilter

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        ("1.2.3.4", request_line, "200"),
        None,
    )
    TokenMaskingFilter().filter(record)
    line = record.getMessage()
    assert not [s for s in SECRETS if s in line], line
    assert "…" in line


@pytest.mark.parametrize("request_line", LEAKY_REQUESTS)
def test_gunicorn_access_log_masks_percent_encoded_tokens(request_line):
    from gunicorn.config import Config

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    logger = conf["logger_class"](Config())
    method, raw_uri, protocol = request_line.split(" ")
    path, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "RAW_URI": raw_uri,
        "SERVER_PROTOCOL": protocol,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "1.2.3.4",
        "HTTP_REFERER": f"https://vote.example{raw_uri}",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = SimpleNamespace(headers=[("REFERER", f"https://vote.example{raw_uri}")])
    atoms = logger.atoms(response, request, environ, dt.timedelta(seconds=1))
    text = json.dumps({k: v for k, v in atoms.items() if isinstance(v, str)}, ensure_ascii=False)
    assert not [s for s in SECRETS if s in text], text


def test_masking_keeps_the_rest_of_the_line():
    from residents_vote.web import mask_tokens

    assert mask_tokens(f"GET /b/{ENCODED_TOKEN}?lang=en HTTP/1.1") == "GET /b/…?lang=en HTTP/1.1"
    assert (
        mask_tokens(f"GET /r/pub/receipt?lang=en&%63ode={RECEIPT}&x=1")
        == "GET /r/pub/receipt?lang=en&%63ode=…&x=1"
    )
    assert mask_tokens("GET /r/pub.json HTTP/1.1") == "GET /r/pub.json HTTP/1.1"


# --- register exports are audited -------------------------------------------------------------


def _exports(app) -> list[AuditEvent]:
    with read(app) as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "households.export")
                .order_by(AuditEvent.id)
            )
        )


def test_register_exports_are_audited(app, client, runner, tmp_path):
    factories.community(app, "hx")
    factories.staff_user(app, "staff1", ("hx",))
    started = dt.datetime.now(dt.UTC)
    result = runner.invoke(args=["households", "export", "hx", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.stderr
    assert login(client, "staff1").status_code == 303
    response = client.get("/staff/c/hx/export.xlsx")
    assert response.status_code == 200
    cli_event, web_event = _exports(app)
    assert (cli_event.actor, web_event.actor) == ("cli", "staff1")
    assert json.loads(cli_event.data)["format"] == "csv"
    assert json.loads(web_event.data)["format"] == "xlsx"
    assert json.loads(web_event.data)["households"] == 3
    for event in (cli_event, web_event):
        assert event.at >= started - dt.timedelta(seconds=1)
        assert event.subject == "hx" and event.community_id is not None
        for personal in ("张伟", "王芳", "李娜", "13800001234", "13900005678"):
            assert personal not in event.data and personal not in event.subject
    # The audit page of the community shows it in words.
    with app.test_request_context():
        from residents_vote.services import audit_log

        sentence = audit_log.describe(web_event)
    assert "3" in sentence and "XLSX" in sentence.upper()


def test_a_refused_export_is_not_audited(app, runner, tmp_path):
    result = runner.invoke(args=["households", "export", "nowhere", str(tmp_path / "r.csv")])
    assert result.exit_code == 1
    assert count(app, AuditEvent, AuditEvent.action == "households.export") == 0


# --- a path id too large for the database --------------------------------------------------

HUGE_IDS = ("99999999999999999999", str(2**31), str(2**63))


def test_a_path_id_too_large_for_the_database_is_404_on_every_int_route(app):
    world = factories.voting_world(app)
    make_user(app, "boss", "admin", [])
    client = app.test_client()
    assert login(client, "boss").status_code == 303
    token = csrf_token(client.get("/staff/c/hx").get_data(as_text=True))
    walked = 0
    for rule in app.url_map.iter_rules():
        ints = [
            name
            for name, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter)
        ]
        if not ints:
            continue
        for huge in HUGE_IDS:
            fill = {"slug": world.slug, "code": "1-1-101", "kind": "notice", "fmt": "csv"}
            values = {
                arg: int(huge) if arg in ints else fill.get(arg, "x") for arg in rule.arguments
            }
            _, path = rule.build(values, append_unknown=False)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method, data={"csrf_token": token})
                assert response.status_code == 404, (method, path, response.status_code)
                walked += 1
    assert walked >= 30


def test_the_largest_id_the_database_holds_is_still_looked_up(app):
    make_user(app, "boss", "admin", [])
    client = app.test_client()
    assert login(client, "boss").status_code == 303
    assert client.get(f"/staff/proposals/{2**31 - 1}").status_code == 404
    world = factories.voting_world(app, slug="hy", staff="staff2")
    assert client.get(f"/staff/proposals/{world.proposal_id}").status_code == 200


# --- receipt checks: 60 failures per 15 minutes per address --------------------------------


@pytest.fixture
def limited_app(migrated_url):
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": migrated_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    from residents_vote.extensions import limiter

    with app.app_context():
        limiter.reset()
    yield app
    app.extensions["rv_db"].engine.dispose()


def test_receipt_checks_allow_60_failures_per_15_minutes(limited_app):
    from limits import parse_many

    from residents_vote.extensions import FAILURE_LIMITS

    (limit,) = parse_many(FAILURE_LIMITS["receipt"])
    assert (limit.amount, limit.get_expiry()) == (60, 15 * 60)

    app = limited_app
    world = factories.voting_world(app)
    receipt = factories.cast(app, world.proposal_id, "1-1-101")
    pub = public_id(app, world.proposal_id)
    client = app.test_client()
    statuses = [
        client.get(f"/r/{pub}/receipt", query_string={"code": f"ABCD-EFGH-{n:04d}"}).status_code
        for n in range(60)
    ]
    assert statuses == [404] * 60, "a carrier address shared by many residents is not blocked"
    assert client.get(f"/r/{pub}/receipt?code={receipt}").status_code == 429
    # Another address is not affected.
    other = client.get(
        f"/r/{pub}/receipt?code={receipt}", environ_overrides={"REMOTE_ADDR": "198.51.100.20"}
    )
    assert other.status_code == 200
