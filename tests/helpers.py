"""Helpers shared by the HTTP, CLI and service tests (not fixtures: plain functions).

Sections: the test configuration; sample files; database access (read, write, count,
snapshot, users, communities); HTML forms and login; the command line (cli, ok, refused);
pages and documents as text (english, html_text, pdf_text…); a resident's phone (submit,
vote_online, object_online); staff and committee pages; reading state (public_id,
status_of, the_vote…); the tally JSON's shape. Worlds (a community with households, a
proposal in each status, ballots, votes) are built in tests/factories.py.

Everything here goes through the public surface (services, CLI, pages) or reads the
database directly; nothing patches application code. Test modules import from here and
from tests/factories.py, never from one another (tests/unit/test_no_cross_imports.py).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from residents_vote import db as dbmod
from residents_vote.domain import periods
from residents_vote.domain import tally as tally_rules
from residents_vote.domain.tally import ANSWERS, RULES
from residents_vote.models import (
    STATUSES,
    AuditEvent,
    Community,
    ElectorateEntry,
    Household,
    Objection,
    Proposal,
    User,
    Vote,
)
from residents_vote.pdf import BallotCommon

PASSWORD = "correct horse battery"
EXPORT_HEADER_LINE = "楼栋,单元,房号,专有部分面积,业主姓名,业主标识,电话"
BASE = "http://localhost"  # BASE_URL of the app fixture

# --- the configuration of the app fixture (conftest.py builds it from this) ------------

CHEAP_HASH = "pbkdf2:sha256:1000"

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "PASSWORD_HASH": CHEAP_HASH,
    "RATELIMIT_ENABLED": False,
    "BASE_URL": BASE,
}


def postgres_url() -> str | None:
    """The PostgreSQL server to test against (TEST_DATABASE_URL), or None for SQLite."""
    return os.environ.get("TEST_DATABASE_URL")


# --- sample files -----------------------------------------------------------------


def shared_data() -> Path:
    """The sample registers (/work/shared/data), located like tests/unit/test_register.py."""
    override = os.environ.get("RV_SHARED_DATA")
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared sample data not found at {path}")
    return path


def sample(name: str) -> Path:
    path = shared_data() / name
    if not path.is_file():
        pytest.skip(f"sample file {path} missing")
    return path


# --- database access ------------------------------------------------------------------


def engine(app: Flask):
    return app.extensions["rv_db"].engine


@contextlib.contextmanager
def read(app: Flask) -> Iterator[Session]:
    """A fresh read session on the app's database (no app context needed).

    Deferred BEGIN even if some earlier code left the write intent set, so a read held
    open here never takes SQLite's write lock.
    """
    token = dbmod.set_write_intent(False)
    try:
        with app.extensions["rv_db"].factory() as session:
            yield session
    finally:
        dbmod.reset_write_intent(token)


@contextlib.contextmanager
def write(app: Flask) -> Iterator[Session]:
    """A committed write transaction inside an app context (services need current_app)."""
    with app.app_context(), dbmod.write_session(app.extensions["rv_db"].factory) as session:
        yield session


def count(app: Flask, model, *where) -> int:
    with read(app) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def households_of(app: Flask, slug: str, *, active_only: bool = False) -> list[Household]:
    with read(app) as s:
        stmt = select(Household).join(Community).where(Community.slug == slug)
        if active_only:
            stmt = stmt.where(Household.removed_at.is_(None))
        return list(s.scalars(stmt.order_by(Household.id)))


def snapshot(app: Flask) -> dict[str, object]:
    """Row counts plus every household's fields: compare before/after a refused command."""
    with read(app) as s:
        rows = s.execute(
            select(
                Household.community_id,
                Household.code,
                Household.area,
                Household.owner_name,
                Household.owner_key,
                Household.phone,
                Household.removed_at,
            ).order_by(Household.community_id, Household.code)
        ).all()
        return {
            "communities": s.scalar(select(func.count()).select_from(Community)),
            "users": s.scalar(select(func.count()).select_from(User)),
            "audit": s.scalar(select(func.count()).select_from(AuditEvent)),
            "households": [tuple(r) for r in rows],
        }


def make_community(app: Flask, slug: str, name: str | None = None) -> int:
    from residents_vote.services import communities

    with write(app) as s:
        return communities.create_community(s, slug, name or f"小区 {slug}").id


def make_user(
    app: Flask,
    username: str,
    role: str,
    slugs: tuple[str, ...] | list[str] = (),
    *,
    password: str = PASSWORD,
    active: bool = True,
) -> int:
    from residents_vote.services import users

    with write(app) as s:
        user = users.create_user(s, username, password, role, list(slugs))
        if not active:
            users.set_active(s, user, False, actor="test")
        return user.id


# --- HTML forms --------------------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_fields(html: str, action: str | None = None) -> dict[str, str]:
    """The <input> values of the first form (or the first whose action ends with `action`)."""
    for form in forms(html):
        if action is None or form["action"].split("?")[0].endswith(action):
            return dict(form["fields"])
    raise AssertionError(f"no form with action {action!r} in page")


def csrf_token(html: str, action: str | None = None) -> str:
    token = form_fields(html, action).get("csrf_token")
    assert token, "form has no csrf_token field"
    return token


def login(client, username: str, password: str = PASSWORD, next_url: str | None = None):
    """GET the login form, then POST it with its CSRF token; returns the POST response."""
    page = client.get("/login")
    assert page.status_code == 200
    url = "/login" if next_url is None else "/login?" + _query({"next": next_url})
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "username": username,
            "password": password,
        },
    )


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


# --- printed documents in Chinese (the paper ballot's words go through the catalog) ----


@contextlib.contextmanager
def chinese_documents(tmp_dir: Path) -> Iterator[None]:
    """Render PDFs as services/printing.py does: under force_locale("zh_CN").

    Compiles the Chinese catalog into tmp_dir (not relying on `make translations`) and
    pushes a bare Flask app with Flask-Babel pointing there.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from flask_babel import Babel, force_locale

    root = Path(__file__).resolve().parents[1]
    po = root / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    mo = tmp_dir / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True, exist_ok=True)
    with po.open("rb") as src, mo.open("wb") as dst:
        write_mo(dst, read_po(src, locale="zh_Hans_CN"), use_fuzzy=False)
    app = Flask("chinese_documents")
    Babel(app, default_translation_directories=str(tmp_dir))
    with app.app_context(), force_locale("zh_CN"):
        yield

# --- command line ---------------------------------------------------------------------------


def cli(runner, *args: object):
    """Run `flask --app app ARGS…` in-process (every argument as a string)."""
    return runner.invoke(args=[str(a) for a in args])


def ok(result) -> str:
    """Exit 0, no traceback; returns stdout."""
    assert result.exit_code == 0, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    return result.stdout


def refused(result, *fragments: str) -> str:
    """A refusal: exit 1 by SystemExit, a human message on stderr naming each fragment,
    no traceback; returns stderr."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.strip(), "no message on stderr"
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr


PROPOSAL_CREATE = [  # `proposal create` of a one-question draft in community hx
    "proposal",
    "create",
    "hx",
    "--title",
    "加装电梯",
    "--stage",
    "design",
    "--question",
    "是否同意加装电梯？",
]


def votes_record(runner, pid, household, answers="1=agree,2=oppose", *extra, by="staff1"):
    """`votes record PID HOUSEHOLD --answers … EXTRA… --by BY` (a paper or proxy ballot)."""
    return cli(runner, "votes", "record", pid, household, "--answers", answers, *extra, "--by", by)


def links(path) -> list[dict[str, str]]:
    """The rows of a ballot links file (`ballots issue --links FILE`)."""
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "household,serial,url"
    return list(csv.DictReader(io.StringIO(text)))


def token_of(row: dict[str, str]) -> str:
    """The ballot token of a links-file row."""
    assert row["url"].startswith(BASE + "/b/"), row["url"]
    return row["url"].rsplit("/", 1)[1]


# --- pages and documents as text ----------------------------------------------------------


def english(client):
    """Ask for English pages (lang cookie): assertions do not depend on the Chinese catalog."""
    client.set_cookie("lang", "en")
    return client


def flat(text: str) -> str:
    """Whitespace collapsed: a sentence wrapped over two PDF lines reads as one."""
    return " ".join(text.split())


def pdf_text(data: bytes, *, layout: bool = False) -> str:
    """The text of a PDF by pdftotext (skips the test when poppler is missing)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    assert data.startswith(b"%PDF"), data[:40]
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + ["-", "-"]
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode()


class _Text(HTMLParser):
    """Visible text of a page (no <title>, <style>, attribute values)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "style", "script"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("title", "style", "script") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return flat(" ".join(parser.parts))


class _ById(HTMLParser):
    """The text inside the element with a given id (no nested element of the same tag)."""

    def __init__(self, wanted: str) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted, self.depth, self.text, self.found = wanted, 0, [], False

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.wanted:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def element_text(html: str, element_id: str) -> str | None:
    """The text of the element with that id, or None when the page has none."""
    parser = _ById(element_id)
    parser.feed(html)
    return "".join(parser.text).strip() if parser.found else None


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


# --- a resident's phone -------------------------------------------------------------------

BOTH_AGREE = {"q1": "agree", "q2": "agree"}


def submit(client, url: str, answers: dict[str, str], *, confirm: bool = True, **extra):
    """GET the ballot for its CSRF token, then POST the answers (and confirm=yes)."""
    html = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), **answers, **extra}
    if confirm:
        data["confirm"] = "yes"
    return client.post(url, data=data)


def vote_online(client, token: str, answers: dict[int, str]) -> str:
    """Vote through the ballot page; returns the receipt shown afterwards."""
    url = f"/b/{token}"
    page = client.get(url)
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "confirm": "yes"}
    data.update({f"q{n}": a for n, a in answers.items()})
    response = client.post(url, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    voted = client.get(url).get_data(as_text=True)
    m = re.search(r'id="receipt"[^>]*>\s*([^<]+?)\s*<', voted)
    assert m, "receipt not shown after voting"
    return m.group(1)


def any_csrf(client) -> str:
    """A CSRF token of this client's session (the login form carries one)."""
    return csrf_token(client.get("/login").get_data(as_text=True))


def object_online(client, pub: str, **fields: str):
    """An objection on the public page. Only a household of the electorate may object
    (DOMAIN.md section 5): unless `receipt=` is given, the receipt code of the household
    named by `household=` (else of the first household that voted) is sent."""
    data = {"csrf_token": any_csrf(client), "name": "居民", "text": "计票有误"}
    data.update(fields)
    if "receipt" not in data:
        data["receipt"] = receipt_of(client.application, pub, data.get("household", ""))
    return client.post(f"/r/{pub}/objections", data=data)


# --- staff and committee pages ------------------------------------------------------------


def staff_client(app, client, world):
    """The client signed in (English pages) as the staff user of a factories.World."""
    response = login(english(client), world.staff, world.password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def staff_token(client, pid: int) -> str:
    """A CSRF token of the signed-in staff session (any staff form carries the same one)."""
    page = client.get(f"/staff/proposals/{pid}")
    assert page.status_code == 200
    return csrf_token(page.get_data(as_text=True))


def paper_form(client, pid: int) -> str:
    """The staff paper-entry page of a proposal (HTML)."""
    response = client.get(f"/staff/proposals/{pid}/paper")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_paper(client, pid: int, **fields):
    """POST the paper-entry form (multipart, with its CSRF token) and the given fields."""
    data = {"csrf_token": csrf_token(paper_form(client, pid)), **fields}
    return client.post(
        f"/staff/proposals/{pid}/paper", data=data, content_type="multipart/form-data"
    )


def sign_page(client, pid: int):
    """The committee's sign-off page of a proposal."""
    return client.get(f"/committee/proposals/{pid}")


def committee_post(client, pid: int, what: str, **fields):
    """POST /committee/proposals/PID/WHAT (sign, decline…) with the page's CSRF token."""
    page = sign_page(client, pid)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = f"/{what}" if f"/{pid}/{what}" in html else None  # else: the log-out form's token
    token = csrf_token(html, form)
    return client.post(f"/committee/proposals/{pid}/{what}", data={"csrf_token": token, **fields})


# --- reading state ----------------------------------------------------------------------------


def public_id(app: Flask, proposal_id: int) -> str:
    with read(app) as s:
        return s.get(Proposal, proposal_id).public_id


def status_of(app: Flask, proposal_id: int) -> str:
    with read(app) as s:
        return s.get(Proposal, proposal_id).status


def objection_end(app: Flask, proposal_id: int) -> str:
    """The end of the objection period as notices write it ("2026-01-08 24:00")."""
    with read(app) as s:
        end = s.get(Proposal, proposal_id).objection_ends_at
    return periods.format_end(end, ZoneInfo("Asia/Shanghai"))


def objections_of(app: Flask, proposal_id: int) -> list[Objection]:
    with read(app) as s:
        return list(
            s.scalars(
                select(Objection).where(Objection.proposal_id == proposal_id).order_by(Objection.id)
            )
        )


def receipt_of(app: Flask, pub: str, household: str = "") -> str:
    """The receipt code of a household's vote (any voter's if none is named), or ""."""
    with read(app) as s:
        query = (
            select(Vote.receipt_code)
            .join(Proposal, Proposal.id == Vote.proposal_id)
            .join(
                ElectorateEntry,
                (ElectorateEntry.proposal_id == Vote.proposal_id)
                & (ElectorateEntry.household_id == Vote.household_id),
            )
            .where(Proposal.public_id == pub)
            .order_by(Vote.id)
        )
        if household.strip():
            query = query.where(ElectorateEntry.code == household.strip())
        return s.scalars(query).first() or ""


def the_vote(app: Flask, household: str = "1-1-101") -> Vote | None:
    """The household's vote (any proposal), with `answer_list` [(number, answer)…] loaded."""
    with read(app) as s:
        vote = s.scalar(
            select(Vote)
            .join(
                ElectorateEntry,
                (ElectorateEntry.household_id == Vote.household_id)
                & (ElectorateEntry.proposal_id == Vote.proposal_id),
            )
            .where(ElectorateEntry.code == household)
        )
        if vote is not None:
            vote.answer_list = [(a.question_number, a.answer) for a in vote.answers]
        return vote


def answers_of(app: Flask, proposal_id: int, household: str = "1-1-101") -> dict[int, str] | None:
    """{question number: answer} of the household's vote on the proposal, or None."""
    with read(app) as s:
        vote = s.scalar(
            select(Vote)
            .join(
                ElectorateEntry,
                (ElectorateEntry.household_id == Vote.household_id)
                & (ElectorateEntry.proposal_id == Vote.proposal_id),
            )
            .where(Vote.proposal_id == proposal_id, ElectorateEntry.code == household)
        )
        return None if vote is None else {a.question_number: a.answer for a in vote.answers}


# --- the tally JSON's shape (CONTRACT.md "Tally JSON") -------------------------------------

AREA_RE = re.compile(r"^[0-9]+\.[0-9]{2}$")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def assert_area(value) -> None:
    assert isinstance(value, str) and AREA_RE.match(value), value


def assert_totals(value) -> None:
    assert set(value) == {"persons", "area"}, value
    assert is_int(value["persons"]) and value["persons"] >= 0
    assert_area(value["area"])


def assert_contract_shape(data: dict) -> None:
    """CONTRACT.md "Tally JSON": keys, types, formats (not the numbers)."""
    assert {"proposal", "electorate", "participation", "questions"} <= set(data)
    p = data["proposal"]
    assert {"id", "public_id", "title", "stage", "status", "rule", "headcount", "scope"} <= set(p)
    assert is_int(p["id"]) and isinstance(p["public_id"], str) and p["public_id"]
    assert p["status"] in STATUSES and p["status"] != "draft"
    assert p["rule"] in RULES and p["headcount"] in tally_rules.HEADCOUNTS
    assert isinstance(p["scope"], list) and all(isinstance(b, str) for b in p["scope"])
    e = data["electorate"]
    assert set(e) == {"households", "persons", "area"}
    assert is_int(e["households"]) and is_int(e["persons"]) and e["persons"] <= e["households"]
    assert_area(e["area"])
    assert_totals(data["participation"])
    rule = RULES[p["rule"]]
    assert data["questions"], "a proposal has at least one question"
    for number, q in enumerate(data["questions"], 1):
        assert set(q) == {
            "number", "text", *ANSWERS, "thresholds", "conflicts", "passed", "advisory",
        }  # fmt: skip
        assert q["number"] == number and isinstance(q["text"], str)
        for answer in ANSWERS:
            assert_totals(q[answer])
        assert sum(q[a]["persons"] for a in ANSWERS) == data["participation"]["persons"]
        assert len(q["thresholds"]) == len(rule.thresholds)
        for t, rt in zip(q["thresholds"], rule.thresholds, strict=True):
            assert set(t) == {
                "counts", "measure", "of", "ratio", "strict", "required", "actual", "met",
            }  # fmt: skip
            assert (t["counts"], t["measure"], t["of"]) == (rt.counts, rt.measure, rt.of)
            assert t["ratio"] == f"{rt.num}/{rt.den}" and t["strict"] is rt.strict
            assert isinstance(t["met"], bool)
            if t["measure"] == "area":
                assert_area(t["required"])
                assert_area(t["actual"])
            else:
                assert is_int(t["required"]) and is_int(t["actual"])
        assert isinstance(q["passed"], bool)
        assert isinstance(q["conflicts"], list)
        if p["headcount"] == "household":
            assert q["conflicts"] == []
        for c in q["conflicts"]:
            assert set(c) == {"owner_key", "households"}
            assert isinstance(c["owner_key"], str)
            assert len(c["households"]) >= 2
            assert all(isinstance(h, str) for h in c["households"])
        assert [a["rule"] for a in q["advisory"]] == [r for r in RULES if r != p["rule"]]
        for a in q["advisory"]:
            assert set(a) == {"rule", "passed"} and isinstance(a["passed"], bool)


class Clock:
    """A settable clock for the app's CLOCK (and `now=` arguments): every app built with
    it reads the same time; tests move it instead of sleeping."""

    def __init__(self) -> None:
        from residents_vote.models import utcnow

        self.now = utcnow()

    def __call__(self):  # noqa: ANN204 - a datetime
        return self.now

    def advance(self, **delta: float) -> None:
        import datetime as dt

        self.now += dt.timedelta(**delta)


# A ballot as the seed's Liuzhou community would print it: three questions, long Chinese
# text that wraps (the PDF tests, the scan material and the benchmarks print it).
SAMPLE_BALLOT = BallotCommon(
    community="柳州市城中区幸福里小区",
    title="关于《幸福里小区老旧小区改造方案》的表决",
    stage="改造方案",
    questions=(
        "是否同意《幸福里小区老旧小区改造方案》中的设计方案（含屋面防水、外立面整治、"
        "雨污分流、加装电梯、停车位改造等内容）？",
        "是否同意改造工程预算总额 1,286.40 万元，其中政府以奖代补 1,093.44 万元，"
        "小区居民筹集 192.96 万元（按专有部分面积分摊）？",
        "是否同意改造完成后由业主委员会选聘物业服务企业实施专业化物业管理？",
    ),
    opens="2026-12-01 09:00",
    deadline="2026-12-15 18:00",
    hand_in="幸福里社区居委会一楼服务大厅（工作日 8:30–17:30）",
    organiser="幸福里社区居民委员会",
    contact="0772-1234567",
    rule="专有部分面积占总面积三分之二以上且户数占总户数三分之二以上的业主同意",
)
