"""Publication in three stages (DOMAIN.md section 5) and the public pages of CONTRACT.md.

Stage 1, the voting notice; stage 2, the preliminary result with the objection period;
stage 3, the final result. Each stage is checked in order with the refusals around it
(voting after close, early finalize, late objection), every figure of a published
revision is compared between the page, the JSON and the PDF text, and no owner name or
phone of the 403-household sample register may appear in any public output.

Time passes with `travel()`: every stored instant of a proposal moves back by the same
amount, which is what waiting would do. Pages are read in English (lang cookie) so the
assertions do not depend on the Chinese catalog.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import subprocess
from fractions import Fraction
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from residents_vote.domain.tally import ANSWERS, parse_area
from residents_vote.models import (
    Attachment,
    AuditEvent,
    Ballot,
    Community,
    NoticePosting,
    Objection,
    Proposal,
    User,
    Vote,
)
from residents_vote.services import (
    ballots,
    communities,
    households,
    proposals,
    results,
    voting,
)
from residents_vote.services.errors import Invalid
from tests import factories
from tests.factories import travel
from tests.helpers import (
    PASSWORD,
    any_csrf,
    count,
    csrf_token,
    english,
    flat,
    html_text,
    login,
    object_online,
    objection_end,
    pdf_text,
    public_id,
    read,
    refused,
    sample,
    staff_client,
    vote_online,
    write,
)

# --------------------------------------------------------------------------- helpers


def key_values(pdf_plain_text: str) -> str:
    """PDF text with "Key：value" written as the page shows it, "Key value"."""
    return flat(pdf_plain_text.replace("：\n", "： ").replace("： ", " ").replace("：", " "))


class _Tables(HTMLParser):
    """Rows (lists of cell texts) of every <table> whose class contains `wanted`."""

    def __init__(self, wanted: str) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.tables: list[list[list[str]]] = []
        self.inside = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and self.wanted in (a.get("class") or "").split():
            self.inside = True
            self.tables.append([])
        elif self.inside and tag == "tr":
            self.tables[-1].append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append(flat("".join(self.cell)))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(html: str, css_class: str) -> list[list[list[str]]]:
    parser = _Tables(css_class)
    parser.feed(html)
    return parser.tables


def element_rows(html: str, element_id: str) -> list[list[str]]:
    """Rows of the table with the given id."""
    marked = html.replace(f'id="{element_id}"', f'id="{element_id}" class="wanted-{element_id}"')
    tables = html_tables(marked, f"wanted-{element_id}")
    assert tables, f"no table #{element_id}"
    return tables[0]


NUMBER = r"\d+(?:\.\d+)?"
FIGURE_ROW = re.compile(rf"^\s*(.*?)\s*({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s*$")
UNIT_ROW = re.compile(r"(?<![\w.-])(\d+-\d+-\d+)\s+(\d+\.\d\d)(?![\w.])")
PARTICIPATION = re.compile(
    rf"Participating (?:households|owners) ({NUMBER}) \(({NUMBER})% of the total\) "
    rf"Participating area \(m²\) ({NUMBER}) \(({NUMBER})% of the total\)"
)
REQUIRED = re.compile(rf"required ({NUMBER}), actual ({NUMBER}): (met|not met)")


def pdf_figure_rows(layout_text: str) -> list[list[str]]:
    """Rows of the per-question figure tables: a label and one number per answer."""
    rows = []
    for line in layout_text.splitlines():
        m = FIGURE_ROW.match(line)
        if m and not re.search(r"\d", m.group(1)):  # a label (maybe wrapped away), no figure
            rows.append([m.group(1).strip(), *m.groups()[1:]])
    return rows


# --------------------------------------------------------------------------- stages in order


def test_three_stages_in_order_with_their_refusals(app, client, runner):
    english(client)
    world = factories.voting_world(app, closes=factories.ahead(hours=2), objection_days=7)
    pid = world.proposal_id
    pub = public_id(app, pid)

    # Stage 1: the voting notice; nothing of stages 2 and 3 exists yet.
    page = client.get(f"/r/{pub}")
    assert page.status_code == 200
    assert "Voting notice" in page.get_data(as_text=True)
    assert client.get(f"/r/{pub}/notice.pdf").status_code == 200
    for later in (f"/r/{pub}.json", f"/r/{pub}/results.pdf", f"/r/{pub}/final.pdf"):
        assert client.get(later).status_code == 404, later
    early = object_online(client, pub)
    assert early.status_code == 403
    assert "objection period" in html_text(early.get_data(as_text=True))

    receipt = vote_online(client, world.tokens["1-1-101"], {1: "agree", 2: "agree"})
    factories.cast(app, pid, "1-1-102", {1: "agree", 2: "oppose"})

    # Closing before the announced time is refused while households are missing.
    refused(runner.invoke(args=["proposal", "close", str(pid)]), "2 of 3")
    refused(runner.invoke(args=["proposal", "finalize", str(pid)]), "status: voting")

    travel(app, pid, hours=3)  # the announced closing time passes

    # Voting after close: the ballot link explains and refuses; paper entry is refused.
    late = client.get(world.url("2-1-201"))
    assert late.status_code == 403
    assert "Voting closed at" in html_text(late.get_data(as_text=True))
    assert (
        client.post(
            world.url("2-1-201"),
            data={"csrf_token": any_csrf(client), "q1": "agree", "q2": "agree", "confirm": "yes"},
        ).status_code
        == 403
    )
    with pytest.raises(Invalid):  # after the close only with the time it was received
        factories.cast(app, pid, "2-1-201")
    assert count(app, Vote, Vote.proposal_id == pid) == 2

    # Counting: the first request after the announced time stops voting by itself; nothing
    # is published until staff publish the preliminary result (issue 12).
    page = client.get(f"/r/{pub}")
    assert "being counted" in html_text(page.get_data(as_text=True))
    assert client.get(f"/r/{pub}.json").status_code == 404
    with read(app) as s:
        assert s.get(Proposal, pid).status == "counting"
    assert runner.invoke(args=["proposal", "close", str(pid)]).exit_code == 0

    # Stage 2: the preliminary result, its objection period from the day after posting.
    page = client.get(f"/r/{pub}")
    html = page.get_data(as_text=True)
    text = html_text(html)
    assert "Preliminary result posting" in text
    with read(app) as s:
        p = s.get(Proposal, pid)
        assert p.status == "publicity" and p.result_revision == 1
        assert p.closed_at == p.closes_at, "closed at the announced time, not at the request"
    end = objection_end(app, pid)
    assert f"to {end}." in text and end.endswith("24:00")
    assert 'action="/r/' + pub + '/objections"' in html
    assert client.get(f"/r/{pub}.json").get_json()["proposal"]["status"] == "publicity"
    assert client.get(f"/r/{pub}/results.pdf").status_code == 200
    assert client.get(f"/r/{pub}/final.pdf").status_code == 404
    assert client.get(f"/r/{pub}/receipt?code={receipt}").status_code == 200

    filed = object_online(client, pub, household="1-1-102", text="我家投的是同意")
    assert filed.status_code == 303
    refused(runner.invoke(args=["proposal", "finalize", str(pid)]), end)

    with write(app) as s:
        objection = s.scalar(select(Objection).where(Objection.proposal_id == pid))
        staff = s.scalar(select(User).where(User.username == world.staff))
        results.answer_objection(s, objection, "rejected", "纸质表决票上勾选的是反对", by=staff)

    travel(app, pid, days=8)  # the objection period passes
    end = objection_end(app, pid)

    too_late = object_online(client, pub)
    assert too_late.status_code == 403
    assert f"ended at {end}" in html_text(too_late.get_data(as_text=True))

    done = runner.invoke(args=["proposal", "finalize", str(pid)])
    assert done.exit_code == 0, done.stderr
    assert "is final" in done.stdout

    # Stage 3: the final notice states the expiry, the objections and the result.
    text = html_text(client.get(f"/r/{pub}").get_data(as_text=True))
    assert "Final result notice" in text
    assert "posting period of the preliminary result has expired" in text
    assert "纸质表决票上勾选的是反对" in text and "Rejected" in text
    final_pdf = flat(pdf_text(client.get(f"/r/{pub}/final.pdf").data))
    assert "posting period of the preliminary result has expired" in final_pdf
    assert "纸质表决票上勾选的是反对" in final_pdf
    assert object_online(client, pub).status_code == 403
    assert client.get(f"/r/{pub}.json").get_json()["proposal"]["status"] == "final"


def test_close_early_only_when_everyone_voted(app, client, runner):
    english(client)
    world = factories.voting_world(app, closes=factories.ahead(days=3))
    for code in ("1-1-101", "1-1-102"):
        factories.cast(app, world.proposal_id, code)
    refused(runner.invoke(args=["proposal", "close", str(world.proposal_id)]), "announced")
    factories.cast(app, world.proposal_id, "2-1-201")
    result = runner.invoke(args=["proposal", "close", str(world.proposal_id)])
    assert result.exit_code == 0, result.stderr
    text = html_text(client.get(f"/r/{public_id(app, world.proposal_id)}").get_data(as_text=True))
    assert "closed early because every household had voted" in text


def test_ballot_of_a_non_voter_after_close(app, client):
    english(client)
    world = factories.voting_world(
        app,
        opened_at=factories.ago(days=3),
        starts=factories.ago(days=3),
        closes=factories.ago(minutes=5),
    )
    response = client.get(world.url("1-1-101"))
    assert response.status_code == 403
    text = html_text(response.get_data(as_text=True))
    assert "Voting closed at" in text and "Votes can no longer be cast" in text
    assert "being counted" in text
    with read(app) as s:
        assert s.get(Proposal, world.proposal_id).status == "counting", "closed by the visit"


# --------------------------------------------------------------------------- stage 1


def notice_world(app, **options):
    with write(app) as s:
        communities.create_community(
            s,
            "hx",
            factories.COMMUNITY_NAME,
            office="幸福里社区居委会一楼服务大厅",
            contact="0772-1234567（王女士）",
            address="柳州市城中区幸福路 8 号",
        )
    factories.import_register(app, "hx")
    factories.staff_user(app)
    return factories.proposal(app, **options)


def test_voting_notice_states_every_field(app, client):
    english(client)
    starts = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
    closes = dt.datetime(2026, 12, 15, 10, 0, tzinfo=dt.UTC)  # 18:00
    pid = notice_world(
        app,
        starts=starts,
        closes=closes,
        opened_at=starts - dt.timedelta(days=1),
        scope=["1"],
        rule="civil-major",
        body="改造内容：屋面防水、外立面整治。",
    )
    pub = public_id(app, pid)
    html = client.get(f"/r/{pub}").get_data(as_text=True)
    page = html_text(html)
    raw = pdf_text(client.get(f"/r/{pub}/notice.pdf").data)
    doc = key_values(raw) + " " + flat(raw)
    expected = [
        factories.TITLE,  # title
        "Civil Code of the PRC art. 278",  # legal basis
        "buildings 1",  # scope
        "Total households 2",  # totals of the scope (building 1: two units)
        "Total owners 2",
        "Total exclusive area (m²) 177.75",
        *factories.QUESTIONS,
        "at least 3/4 of those taking part",  # the rule's conditions
        "Participation by exclusive area (m²): at least 2/3 of the total (at least 118.50)",
        "Participation by number of owners: at least 2/3 of the total (at least 2)",
        "from 2026-12-01 09:30 to 2026-12-15 18:00",  # the window, to the minute
        "Online: scan the QR code",
        "On paper: fill in your household's paper ballot",
        "幸福里社区居委会一楼服务大厅",  # where paper ballots go
        "0772-1234567（王女士）",  # contact
        "柳州市城中区幸福路 8 号",
        "改造内容：屋面防水、外立面整治。",
        f"http://localhost/r/{pub}",
    ]
    for fragment in expected:
        assert fragment in page, ("page", fragment)
        assert fragment in doc, ("pdf", fragment)
    assert 'src="data:image/svg+xml' in html, "QR code on the page"


def test_voting_notice_pdf_fields_and_qr(app, client, tmp_path):
    english(client)
    starts = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
    pid = notice_world(app, starts=starts, closes=starts + dt.timedelta(days=14), opened_at=starts)
    pub = public_id(app, pid)
    data = client.get(f"/r/{pub}/notice.pdf").data
    doc = key_values(pdf_text(data))
    for key, value in (
        ("Total households", "3"),
        ("Total exclusive area (m²)", "297.75"),
        ("Voting window", "from 2026-12-01 09:30 to 2026-12-15 09:30"),
        ("Scope", "the whole community"),
        ("Organiser", factories.COMMUNITY_NAME),
        ("Contact", "0772-1234567（王女士）"),
    ):
        assert f"{key} {value}" in doc, (key, value)
    assert "Notice revision 1" in doc
    if shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None:
        pytest.skip("pdftoppm/zbarimg not installed: QR not decoded")
    (tmp_path / "n.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(tmp_path / "n.pdf"), str(tmp_path / "p")], check=True
    )
    decoded = []
    for png in sorted(tmp_path.glob("p*.png")):
        out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        decoded += out.stdout.split()
    assert decoded == [f"http://localhost/r/{pub}"]


def test_extending_the_window_publishes_a_new_notice_revision(app, client):
    english(client)
    world = factories.voting_world(app, closes=factories.ahead(days=2))
    pub = public_id(app, world.proposal_id)
    new_close = dt.datetime(2030, 1, 31, 10, 0, tzinfo=dt.UTC)  # 18:00 in Shanghai
    with write(app) as s:
        proposals.extend(s, proposals.lock(s, world.proposal_id), new_close, actor="staff1")
    page = html_text(client.get(f"/r/{pub}").get_data(as_text=True))
    doc = flat(pdf_text(client.get(f"/r/{pub}/notice.pdf").data))
    for text in (page, doc):
        assert "Notice revision 2" in text
        assert "voting now closes at 2030-01-31 18:00" in text
        assert "to 2030-01-31 18:00" in text


# --------------------------------------------------------------------------- stage 2: figures


def sample_world(app, *, rule: str = "civil-major", voters: int = 170) -> tuple[int, dict]:
    """The 403-household sample register, an owner-headcount vote, `voters` votes of every
    kind (online, paper, proxy; all four answers), closed a day ago."""
    data = sample("register-403-utf8.csv").read_bytes()
    rows = households.parse_file("register-403-utf8.csv", data)
    factories.community(app, "s403", "样本小区", rows=None)
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == "s403"))
        households.import_rows(s, c, rows, actor="test")
    factories.staff_user(app, "staff1", ("s403",))
    opened = factories.ago(days=6)  # closed a day ago: the objection period is running
    pid = factories.proposal(
        app,
        "s403",
        title="样本小区加装电梯方案表决",
        questions=("是否同意加装电梯方案？", "是否同意分摊方式？"),
        rule=rule,
        starts=opened,
        closes=opened + dt.timedelta(days=5),
        opened_at=opened,
    )
    pattern = ("agree", "agree", "agree", "oppose", "abstain", "agree", "invalid", "agree")
    with write(app) as s:
        p = proposals.lock(s, pid)
        issued = ballots.issue(s, p, actor="test")
        staff = s.scalar(select(User).where(User.username == "staff1"))
        when = opened + dt.timedelta(days=1)
        for i, item in enumerate(issued[:voters]):
            first = pattern[i % len(pattern)]
            second = pattern[(i * 3 + 1) % len(pattern)]
            if i % 3 == 0 and first != "invalid" and second != "invalid":
                ballot = s.scalar(select(Ballot).where(Ballot.serial == item.serial))
                voting.cast_online(s, ballot, {1: first, 2: second}, now=when)
            else:
                voting.record_paper(
                    s,
                    p,
                    item.code,
                    {1: first, 2: second},
                    channel="proxy" if i % 7 == 0 else "paper",
                    proxy_name="代理人" if i % 7 == 0 else "",
                    by=staff,
                    now=when,
                )
        results.close(s, p, actor="test", now=opened + dt.timedelta(days=5, minutes=1))
        names = {(h.owner_name, h.phone, h.owner_key) for h in households.active(s, p.community)}
    return pid, {"names": names}


def test_page_json_and_pdf_agree_number_for_number(app, client):
    english(client)
    pid, _ = sample_world(app)
    pub = public_id(app, pid)
    data = client.get(f"/r/{pub}.json").get_json()
    html = client.get(f"/r/{pub}").get_data(as_text=True)
    page = html_text(html)
    pdf = client.get(f"/r/{pub}/results.pdf").data
    layout = pdf_text(pdf, layout=True)
    doc = flat(pdf_text(pdf))

    with read(app) as s:
        stored = json.loads(results.latest_revision(s, s.get(Proposal, pid)).tally_json)
    stored["proposal"]["status"] = "publicity"
    assert data == stored, "the JSON is the stored revision"
    assert data["participation"]["persons"] > 100 and any(q["conflicts"] for q in data["questions"])

    # Participation: persons, area and their shares of the total.
    part = data["participation"]
    electorate = data["electorate"]
    (from_page,) = PARTICIPATION.findall(page)
    (from_pdf,) = PARTICIPATION.findall(key_values(pdf_text(pdf)))
    assert from_page == from_pdf
    assert from_page[0] == str(part["persons"]) and from_page[2] == part["area"]
    assert abs(
        Fraction(from_page[1]) - Fraction(100 * part["persons"], electorate["persons"])
    ) < Fraction(1, 100)

    # Every answer's persons and area, and the four shares, question by question.
    page_tables = html_tables(html, "figures")
    pdf_rows = pdf_figure_rows(layout)
    assert len(page_tables) == len(data["questions"])
    assert len(pdf_rows) == 6 * len(data["questions"]), pdf_rows
    for i, q in enumerate(data["questions"]):
        body = page_tables[i][1:]
        assert [r[1:] for r in body] == [r[1:] for r in pdf_rows[6 * i : 6 * i + 6]]
        persons, _pp, _tp, area, _pa, _ta = body
        assert persons[1:] == [str(q[a]["persons"]) for a in ANSWERS]
        assert area[1:] == [q[a]["area"] for a in ANSWERS]
        for share, numer, denom in (
            (_pp, [q[a]["persons"] for a in ANSWERS], part["persons"]),
            (_tp, [q[a]["persons"] for a in ANSWERS], electorate["persons"]),
            (_pa, [parse_area(q[a]["area"]) for a in ANSWERS], parse_area(part["area"])),
            (_ta, [parse_area(q[a]["area"]) for a in ANSWERS], parse_area(electorate["area"])),
        ):
            for shown, n in zip(share[1:], numer, strict=True):
                assert abs(Fraction(shown) - Fraction(100 * n, denom)) < Fraction(1, 100)

    # Required figures, actual figures and verdicts of every threshold.
    expected = [
        (str(t["required"]), str(t["actual"]), "met" if t["met"] else "not met")
        for q in data["questions"]
        for t in q["thresholds"]
    ]
    assert REQUIRED.findall(page) == expected
    assert REQUIRED.findall(doc) == expected
    for q in data["questions"]:
        verdict = "Result: PASSED" if q["passed"] else "Result: NOT PASSED"
        assert verdict in page and verdict in doc

    # The participating units, room and area.
    units = [(u["code"], u["area"]) for u in data["households"]]
    assert len(units) == count(app, Vote, Vote.proposal_id == pid)
    assert [tuple(r) for r in element_rows(html, "units")[1:]] == units
    assert UNIT_ROW.findall(layout) == units

    # The objection period, the same on the page and in the PDF.
    period = re.search(r"Objection period: from (.+?) to (.+?24:00)\.", page).groups()
    assert period == re.search(r"Objection period: from (.+?) to (.+?24:00)\.", doc).groups()


def test_no_owner_name_or_phone_in_any_public_output(app, client):
    english(client)
    pid, info = sample_world(app, voters=120)
    pub = public_id(app, pid)
    with read(app) as s:
        vote = s.scalar(select(Vote).where(Vote.proposal_id == pid, Vote.channel == "paper"))
        receipt = vote.receipt_code
    # Objector names are not published either.
    assert object_online(client, pub, household="1-1-101").status_code == 303
    outputs = {
        "page": html_text(client.get(f"/r/{pub}").get_data(as_text=True)),
        "json": client.get(f"/r/{pub}.json").get_data(as_text=True),
        "receipt": html_text(client.get(f"/r/{pub}/receipt?code={receipt}").get_data(as_text=True)),
        "notice.pdf": pdf_text(client.get(f"/r/{pub}/notice.pdf").data),
        "results.pdf": pdf_text(client.get(f"/r/{pub}/results.pdf").data),
    }
    with write(app) as s:
        staff = s.scalar(select(User).where(User.username == "staff1"))
        for o in s.scalars(select(Objection).where(Objection.proposal_id == pid)):
            results.answer_objection(s, o, "rejected", "经核对无误", by=staff)
    travel(app, pid, days=30)
    with write(app) as s:
        results.finalize(s, proposals.lock(s, pid), actor="test")
    outputs["final page"] = html_text(client.get(f"/r/{pub}").get_data(as_text=True))
    outputs["final.pdf"] = pdf_text(client.get(f"/r/{pub}/final.pdf").data)
    outputs["final json"] = client.get(f"/r/{pub}.json").get_data(as_text=True)
    outputs["final json"] = json.dumps(json.loads(outputs["final json"]), ensure_ascii=False)
    outputs["json"] = json.dumps(json.loads(outputs["json"]), ensure_ascii=False)

    assert "1-1-101" in outputs["json"] and "191.39" in outputs["results.pdf"]
    assert len(info["names"]) == 403
    for where, text in outputs.items():
        assert "居民" not in text, (where, "objector name")
        for name, phone, owner_key in info["names"]:
            for secret in filter(None, (name, phone, owner_key)):
                assert secret not in text, (where, secret)
    assert PASSWORD not in outputs["page"]


# --------------------------------------------------------------------------- receipts


def test_receipt_check_online_and_paper(app, client):
    english(client)
    world = factories.voting_world(app, closes=factories.ahead(days=3))
    pub = public_id(app, world.proposal_id)
    online = vote_online(client, world.tokens["1-1-101"], {1: "agree", 2: "oppose"})
    paper = factories.cast(app, world.proposal_id, "2-1-201", {1: "abstain", 2: "invalid"})
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){2}", paper)

    for code, household, answers in (
        (online, "1-1-101", ["Agree", "Oppose"]),
        (paper, "2-1-201", ["Abstain", "Invalid"]),
    ):
        bare = code.replace("-", "")
        for typed in (code, code.lower(), bare, f" {bare[:4]} {bare[4:8]} - {bare[8:]} "):
            response = client.get(f"/r/{pub}/receipt", query_string={"code": typed})
            assert response.status_code == 200, typed
            html = response.get_data(as_text=True)
            assert re.search(rf'id="receipt"[^>]*>\s*{code}\s*<', html), typed
            text = html_text(html)
            assert household in text
            for question, answer in zip(factories.QUESTIONS, answers, strict=True):
                assert f"{question} {answer}" in text
    for unknown in ("2222-3333-4444", "not a code", "0000-OOOO-1111"):
        response = client.get(f"/r/{pub}/receipt", query_string={"code": unknown})
        assert response.status_code == 404
        assert "No vote has this receipt code" in html_text(response.get_data(as_text=True))


def test_public_pages_of_a_draft_are_404(app, client):
    factories.community(app)
    pid = factories.proposal(app, open_vote=False)
    pub = public_id(app, pid)
    for url in ("", ".json", "/notice.pdf", "/results.pdf", "/final.pdf", "/receipt?code=x"):
        assert client.get(f"/r/{pub}{url}").status_code == 404, url
    assert client.get("/r/unknown-id").status_code == 404


# --------------------------------------------------------------------------- postings

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
    b"\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_staff_record_notice_postings_with_a_photo(app, client):
    world = factories.voting_world(app, closes=factories.ahead(days=3))
    staff_client(app, client, world)
    url = f"/staff/proposals/{world.proposal_id}/postings"
    shanghai = ZoneInfo("Asia/Shanghai")
    when = (dt.datetime.now(shanghai) - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    typed = when.strftime("%Y-%m-%dT%H:%M")
    future = (when + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True), "/postings")
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "stage": "notice",
            "place": "3栋单元门口公告栏",
            "posted_at": typed,
            "photo": (io.BytesIO(PNG), "gate.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    with read(app) as s:
        posting = s.scalar(
            select(NoticePosting).where(NoticePosting.proposal_id == world.proposal_id)
        )
        assert posting.stage == "notice" and posting.place == "3栋单元门口公告栏"
        assert posting.posted_at == when.astimezone(dt.UTC)
        photo = s.scalar(select(Attachment).where(Attachment.posting_id == posting.id))
        assert photo.kind == "notice_photo" and photo.content_type == "image/png"
        assert photo.sha256 == hashlib.sha256(PNG).hexdigest()
        actions = set(
            s.scalars(select(AuditEvent.action).where(AuditEvent.proposal_id == world.proposal_id))
        )
        assert {"notice.posting", "evidence.upload"} <= actions
    listing = client.get(url).get_data(as_text=True)
    assert "3栋单元门口公告栏" in listing and when.strftime("%Y-%m-%d %H:%M") in listing
    served = client.get(f"/staff/postings/{posting.id}/photo")
    assert served.status_code == 200 and served.data == PNG and served.mimetype == "image/png"

    # The results notice does not exist yet; a file that is no image or PDF is refused.
    for data, problem in (
        ({"stage": "results", "place": "门口", "posted_at": typed}, "not published"),
        (
            {
                "stage": "notice",
                "place": "门口",
                "posted_at": typed,
                "photo": (io.BytesIO(b"MZ\x90\x00 not an image"), "x.png"),
            },
            "Only PDF, JPEG or PNG",
        ),
        ({"stage": "notice", "place": " ", "posted_at": typed}, "where the notice"),
        ({"stage": "notice", "place": "门口", "posted_at": future}, "in the future"),
    ):
        response = client.post(
            url, data={"csrf_token": token, **data}, content_type="multipart/form-data"
        )
        assert response.status_code == 422
        assert problem in response.get_data(as_text=True)
    assert count(app, NoticePosting) == 1


def test_postings_are_staff_only(app, client):
    world = factories.voting_world(app)
    url = f"/staff/proposals/{world.proposal_id}/postings"
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    factories.community(app, "other", "别的小区")
    factories.staff_user(app, "stranger", ("other",))
    login(client, "stranger", PASSWORD)
    assert client.get(url).status_code == 404
