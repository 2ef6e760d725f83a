"""Issue 12 item 7 on a real database: each household's share on the ballot (page and
PDF) follows the seed's funding rules; plan totals name every payer; the staff form
records each part (DOMAIN.md section 7).

Register (tests.factories.HOUSEHOLDS): building 1 has 1-1-101 (87.65 m²) and 1-1-102
(90.10 m²); building 2 has 2-1-201 (120.00 m²).
"""

from __future__ import annotations

import html as htmllib
import io
import re

import pytest
from pypdf import PdfReader

from residents_vote.domain.catalog import item, item_costs
from residents_vote.domain.costs import apportion, format_yuan
from residents_vote.models import PlanItem, Proposal
from residents_vote.services import costs, proposals
from residents_vote.services.errors import Invalid
from tests import factories
from tests.helpers import cli, csrf_token, links, login, ok, read, token_of, write

AREAS = {"1-1-101": 8765, "1-1-102": 9010, "2-1-201": 12000}
ROAD = 100_000_00  # 2.2 区间道路: residents raise 5 %
ELEVATOR = 300_000_00  # 3.7 加装电梯 in building 2


def pdf_pages(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return ["".join((p.extract_text() or "").replace("\x00", "").split()) for p in reader.pages]


def visible(html: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def make_plan(app, items, **draft) -> int:
    factories.community(app, "hx")
    factories.staff_user(app, "staff1", ("hx",))
    pid = factories.proposal(app, open_vote=False, **draft)
    with write(app) as s:
        p = proposals.lock(s, pid)
        costs.set_items(s, p, items, actor="test")
        proposals.open_vote(s, p, actor="test")
    return pid


def expected_shares(granted: int = 0) -> dict[str, tuple[int, int]]:
    road = item_costs(item("2.2"), ROAD).community_share
    wide = apportion(road, AREAS)
    lift = ELEVATOR - granted  # one household in building 2 pays all of it
    return {
        "1-1-101": (wide["1-1-101"], 0),
        "1-1-102": (wide["1-1-102"], 0),
        "2-1-201": (wide["2-1-201"] + lift, lift),
    }


ITEMS = [("2.2", ROAD, 0, ""), ("3.7", ELEVATOR, 0, "2")]


def test_the_elevator_lands_only_on_its_buildings_ballots(app, client, runner, tmp_path):
    pid = make_plan(app, ITEMS)
    expected = expected_shares()
    with read(app) as s:
        assert costs.shares(s, s.get(Proposal, pid)) == {c: t for c, (t, _) in expected.items()}

    pdf, csv_path = tmp_path / "b.pdf", tmp_path / "links.csv"
    ok(cli(runner, "ballots", "issue", pid, "--pdf", pdf, "--links", csv_path))
    pages = pdf_pages(pdf.read_bytes())
    tokens = {row["household"]: token_of(row) for row in links(csv_path)}
    client.set_cookie("lang", "en")
    for code, (total, lift) in expected.items():
        page = next(p for p in pages if code in p)
        html = visible(client.get(f"/b/{tokens[code]}").get_data(as_text=True))
        assert f"Your household's share: {format_yuan(total)} yuan" in html, html
        assert format_yuan(total) in page
        if lift:
            assert "elevator" in html and format_yuan(lift) in html
            assert "电梯" in page and format_yuan(lift) in page
        else:
            assert "elevator" not in html.lower(), html
            assert "电梯" not in page, page


def test_a_granted_elevator_subsidy_lowers_only_its_buildings_share(app, client):
    granted = 120_000_00
    pid = make_plan(app, [("2.2", ROAD, 0, ""), ("3.7", ELEVATOR, 0, "2", 0, granted)])
    expected = expected_shares(granted)
    with read(app) as s:
        assert costs.shares(s, s.get(Proposal, pid)) == {c: t for c, (t, _) in expected.items()}


def test_group_four_and_non_resident_parts_of_group_one_are_not_apportioned(app, client):
    items = [
        ("1.1", 500_000_00, 120_000_00, "", 80_000_00, 0),  # residents / pipeline / subsidy
        ("1.4", 50_000_00, 0, "", 20_000_00, 0),  # operators move their cables
        ("4.1", 80_000_00, 0, ""),  # property owner
        ("4.2", 30_000_00, 0, ""),  # existing channels
    ]
    pid = make_plan(app, items)
    with read(app) as s:
        p = s.get(Proposal, pid)
        shares = costs.shares(s, p)
        pub = p.public_id
    assert sum(shares.values()) == 120_000_00
    assert shares == apportion(120_000_00, AREAS)
    client.set_cookie("lang", "en")
    page = visible(client.get(f"/r/{pub}").get_data(as_text=True))
    for label, fen in [
        ("Total budget", 660_000_00),
        ("Government subsidy", 330_000_00),
        ("Pipeline companies and operators", 100_000_00),
        ("Property owner", 80_000_00),
        ("Other funding channels", 30_000_00),
        ("Raised by residents", 120_000_00),
    ]:
        assert f"{label} {format_yuan(fen)}" in page, (label, page)
    # item names as attachment 3 writes them
    client.set_cookie("lang", "zh_CN")
    zh = client.get(f"/r/{pub}").get_data(as_text=True)
    for name in ("供水", "弱电", "既有建筑改造利用", "新建建筑设施"):
        assert name in zh


def test_an_elevator_in_a_building_outside_the_register_is_refused(app):
    factories.community(app, "hx")
    pid = factories.proposal(app, open_vote=False)
    with write(app) as s:
        p = proposals.lock(s, pid)
        with pytest.raises(Invalid, match="building 9"):
            costs.set_items(s, p, [("3.7", ELEVATOR, 0, "9", 0, ELEVATOR)], actor="test")


def test_staff_plan_form_records_each_part(app, client):
    factories.community(app, "hx")
    factories.staff_user(app, "staff1", ("hx",))
    pid = factories.proposal(app, open_vote=False)
    login(client, "staff1")
    client.set_cookie("lang", "en")
    html = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    lines = "\n".join(
        [
            "1.1, 5000, residents=1200, pipeline=800",
            "3.7, 300000, building=2, subsidy=120000",
            "2.2, 100000",
            "3.7, 1000, 0, 1",  # the old positional form still works
        ]
    )
    response = client.post(
        f"/staff/proposals/{pid}/plan",
        data={"csrf_token": csrf_token(html, "/plan"), "items": lines},
    )
    assert response.status_code == 303
    with read(app) as s:
        rows = [
            (
                r.catalog_id,
                r.budget,
                r.resident_paid,
                r.pipeline_paid,
                r.granted_subsidy,
                r.building,
            )
            for r in s.query(PlanItem).filter_by(proposal_id=pid).order_by(PlanItem.id)
        ]
    assert rows == [
        ("1.1", 500_000, 120_000, 80_000, 0, ""),
        ("3.7", 30_000_000, 0, 0, 12_000_000, "2"),
        ("2.2", 10_000_000, 0, 0, 0, ""),
        ("3.7", 100_000, 0, 0, 0, "1"),
    ]
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert "subsidy=120000.00" in page and "pipeline=800.00" in page  # the form reads back
    bad = client.post(
        f"/staff/proposals/{pid}/plan",
        data={"csrf_token": csrf_token(html, "/plan"), "items": "3.7, 1000, building=9"},
    )
    assert bad.status_code == 303
    follow = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert "9" in follow and "building" in follow
    with read(app) as s:
        assert s.query(PlanItem).filter_by(proposal_id=pid).count() == 4
