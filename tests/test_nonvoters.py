"""The non-voter list for door-knocking (staff only): page, printable PDF and XLSX.

Households of the frozen electorate that have not voted, grouped by building and unit,
with room, area, owner name and phone (masked to its last four digits); `?sort=area` puts
the largest shares first.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from residents_vote.models import AuditEvent
from tests import factories
from tests.helpers import PASSWORD, english, flat, html_text, login, pdf_text, read, staff_client

# building, unit, room, area, owner name, phone
ROWS = (
    ("1", "1", "101", "87.65", "张伟", "13800001234"),
    ("1", "1", "102", "90.10", "王芳", "13900005678"),
    ("1", "1", "1001", "60.00", "'=1+2", "+8613700000000"),  # stored as =1+2
    ("1", "1", "201", "130.00", "刘洋", ""),
    ("1", "2", "101", "95.00", "@SUM(A1)", "-1"),
    ("10", "1", "101", "150.00", "陈静", "13600000000"),
    ("2", "1", "101", "200.00", "赵敏", "13500000000"),
    ("2", "1", "102", "50.00", "孙丽", "13400000000"),
)
VOTED = ("1-1-102", "2-1-102")


@pytest.fixture
def world(app):
    world = factories.voting_world(app, rows=ROWS, closes=factories.ahead(days=3))
    for code in VOTED:
        factories.cast(app, world.proposal_id, code)
    return world


def group_titles(html: str) -> list[str]:
    import re

    return [flat(re.sub(r"<[^>]+>", " ", h)) for h in re.findall(r"<h2>(.*?)</h2>", html, re.S)]


def rooms(html: str) -> list[str]:
    import re

    return re.findall(r"<tr><td>([^<]+)</td><td>\d", html)


def test_nonvoters_grouped_by_building_and_unit(app, client, world):
    staff_client(app, client, world)
    response = client.get(f"/staff/proposals/{world.proposal_id}/nonvoters")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    titles = group_titles(html)
    assert [t.split(" household")[0] for t in titles] == [
        "Building 1, unit 1 3",
        "Building 1, unit 2 1",
        "Building 2, unit 1 1",
        "Building 10, unit 1 1",
    ], "natural order: building 10 after building 2"
    assert titles[0].endswith("277.65 m²")
    assert rooms(html) == ["101", "201", "1001", "101", "101", "101"]
    text = html_text(html)
    for name, phone in (("张伟", "*******1234"), ("刘洋", ""), ("=1+2", "*******0000")):
        assert name in text and phone in text
    assert "13800001234" not in text, "phones masked (issue 15)"
    assert "王芳" not in text and "孙丽" not in text, "households that voted are not listed"
    assert "6 / 8" in text and "722.65 / 862.75" in text


def test_nonvoters_sorted_by_area(app, client, world):
    staff_client(app, client, world)
    html = client.get(f"/staff/proposals/{world.proposal_id}/nonvoters?sort=area").get_data(
        as_text=True
    )
    titles = [t.split(" household")[0] for t in group_titles(html)]
    assert titles == [
        "Building 1, unit 1 3",  # 277.65 m² missing
        "Building 2, unit 1 1",  # 200.00
        "Building 10, unit 1 1",  # 150.00
        "Building 1, unit 2 1",  # 95.00
    ]
    assert rooms(html) == ["201", "101", "1001", "101", "101", "101"]
    assert "Largest areas first" in html


def test_nonvoters_pdf(app, client, world, tmp_path):
    staff_client(app, client, world)
    response = client.get(f"/staff/proposals/{world.proposal_id}/nonvoters.pdf?sort=area")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = flat(pdf_text(response.data))
    for fragment in (
        "Households that have not voted",
        "6 of 8 households have not voted (722.65 of 862.75 m²)",
        "Building 1, unit 1: 3 households, 277.65 m²",
        "Building 2, unit 1: 1 household, 200.00 m²",
        "张伟",
        "*******1234",
        "=1+2",
        "staff use only",
    ):
        assert fragment in text, fragment
    assert "王芳" not in text and "13800001234" not in text
    assert text.index("Building 2, unit 1") < text.index("Building 10, unit 1")
    if shutil.which("pdftoppm"):
        (tmp_path / "n.pdf").write_bytes(response.data)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "40",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                str(tmp_path / "n.pdf"),
                str(tmp_path / "p"),
            ],
            check=True,
        )
        assert list(tmp_path.glob("p*.png"))


def test_nonvoters_xlsx_cells_are_text(app, client, world):
    staff_client(app, client, world)
    response = client.get(f"/staff/proposals/{world.proposal_id}/nonvoters.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type == "s" for c in cells), "no formulas, no numbers"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == ["Building", "Unit", "Room", "Household", "Area (m²)", "Owner", "Phone"]
    body = rows[1:]
    assert [r[3] for r in body] == [
        "1-1-101",
        "1-1-201",
        "1-1-1001",
        "1-2-101",
        "2-1-101",
        "10-1-101",
    ]
    by_code = {r[3]: r for r in body}
    assert by_code["1-1-101"][4:] == ["87.65", "张伟", "*******1234"], "phones masked"
    assert by_code["1-1-1001"][5:] == ["'=1+2", "*******0000"], "formula-looking: neutralised"
    assert by_code["1-2-101"][5:] == ["'@SUM(A1)", "*******-1"]
    assert by_code["1-1-201"][6] is None or by_code["1-1-201"][6] == ""


def test_downloads_are_audited_without_names(app, client, world):
    staff_client(app, client, world)
    client.get(f"/staff/proposals/{world.proposal_id}/nonvoters.pdf")
    client.get(f"/staff/proposals/{world.proposal_id}/nonvoters.xlsx")
    with read(app) as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "nonvoters.export")))
    assert [e.actor for e in events] == [world.staff, world.staff]
    assert all("张伟" not in e.data and "1380000" not in e.data for e in events)


def test_nonvoters_are_for_staff_of_the_community_only(app, client, world):
    urls = [
        f"/staff/proposals/{world.proposal_id}/nonvoters{suffix}"
        for suffix in ("", ".pdf", ".xlsx")
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    factories.community(app, "other", "别的小区", rows=None)
    factories.staff_user(app, "stranger", ("other",))
    factories.staff_user(app, "member", ("hx",), role="committee")
    for username in ("stranger", "member"):
        client.post("/logout")
        fresh = app.test_client()
        login(fresh, username, PASSWORD)
        for url in urls:
            assert fresh.get(url).status_code == 404, (username, url)


def test_no_list_for_a_draft(app, client):
    english(client)
    factories.community(app)
    factories.staff_user(app)
    pid = factories.proposal(app, open_vote=False)
    login(client, "staff1", PASSWORD)
    assert client.get(f"/staff/proposals/{pid}/nonvoters").status_code == 404


def test_dashboard_links_to_the_list_and_the_postings(app, client, world):
    staff_client(app, client, world)
    html = client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
    assert f'href="/staff/proposals/{world.proposal_id}/nonvoters"' in html
    assert f'href="/staff/proposals/{world.proposal_id}/postings"' in html


def test_turnout_stats_by_building_and_local_day(app, world):
    """The dashboard's turnout figures; days are local (Asia/Shanghai) days."""
    import datetime as dt

    from residents_vote.models import Proposal, Vote
    from residents_vote.services import dashboard
    from tests.helpers import write

    with write(app) as s:
        votes = {
            v.household_id: v
            for v in s.scalars(select(Vote).where(Vote.proposal_id == world.proposal_id))
        }
        first, second = sorted(votes.values(), key=lambda v: v.id)
        first.cast_at = dt.datetime(2026, 1, 5, 15, 59, tzinfo=dt.UTC)  # 23:59 on the 5th
        second.cast_at = dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.UTC)  # 00:00 on the 6th
    with app.test_request_context(), read(app) as s:
        stats = dashboard.stats(s, s.get(Proposal, world.proposal_id))
    assert stats.by_channel == {"paper": 2}
    assert stats.by_day == [("2026-01-05", 1, 1), ("2026-01-06", 1, 2)]
    assert [
        (b.building, b.households, b.voted, b.area, b.voted_area) for b in stats.by_building
    ] == [
        ("1", 5, 1, 46275, 9010),
        ("2", 2, 1, 25000, 5000),
        ("10", 1, 0, 15000, 0),
    ]
