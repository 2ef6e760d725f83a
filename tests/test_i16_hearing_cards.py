"""Issue 16 item 1, the staff phone: a hearing's invitation cards.

`ballots issue` on a pending hearing prints one card per household of the electorate with
the QR code of its link /b/<token>; the link shows the household its hearing notice and
whether its attendance is recorded; staff of the community, signed in, record the
household present from it (one button), once; nobody else can.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import select

from residents_vote.models import AuditEvent, Ballot, HearingAttendance
from tests import factories
from tests.helpers import (
    cli,
    count,
    csrf_token,
    english,
    flat,
    links,
    login,
    ok,
    pdf_text,
    read,
    refused,
    token_of,
)

BANNER = 'id="attend-banner"'
BUTTON = "Record this household as present"
CODES = ("1-1-101", "1-1-102", "2-1-201")


def _cards(app, runner, tmp_path, pid):
    pdf, csv_path = tmp_path / "cards.pdf", tmp_path / "cards.csv"
    out = ok(cli(runner, "ballots", "issue", pid, "--pdf", pdf, "--links", csv_path))
    assert f"issued {len(CODES)} hearing cards" in out
    return pdf, {row["household"]: token_of(row) for row in links(csv_path)}


def _world(app):
    world = factories.hearing_world(app)
    factories.community(app, "other")
    factories.staff_user(app, "staff2", ("other",))
    return world


def _attend(client, token, **form):
    page = client.get(f"/b/{token}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page, f"/b/{token}/attend"), **form}
    return client.post(f"/b/{token}/attend", data=data)


def _attendance(app, pid):
    with read(app) as s:
        return s.scalars(
            select(HearingAttendance).where(HearingAttendance.proposal_id == pid)
        ).all()


def _attend_events(app, pid):
    with read(app) as s:
        return s.scalars(
            select(AuditEvent).where(
                AuditEvent.proposal_id == pid, AuditEvent.action == "hearing.attend"
            )
        ).all()


def test_cards_are_issued_for_a_pending_hearing_only(app, runner, tmp_path):
    draft = factories.hearing_world(app, open_hearing=False)
    refused(
        cli(runner, "ballots", "issue", draft.proposal_id, "--pdf", tmp_path / "x.pdf"),
        "status: draft",
    )
    assert not (tmp_path / "x.pdf").exists()


def test_the_cards_pdf_has_every_household_and_its_qr_code(app, runner, tmp_path):
    world = _world(app)
    pdf, tokens = _cards(app, runner, tmp_path, world.proposal_id)
    assert sorted(tokens) == sorted(CODES)
    with read(app) as s:
        serials = s.scalars(select(Ballot.serial).where(Ballot.proposal_id == world.proposal_id))
        assert sorted(serials) == [f"{world.proposal_id}-0000{i}" for i in (1, 2, 3)]
    text = flat(pdf_text(pdf.read_bytes()))
    for code in CODES:
        assert code in text
    assert "幸福里社区居委会会议室" in text and "形成统一意见" in text  # place, agenda
    assert "书面授权" in text  # a proxy brings written authorisation (printed in Chinese)
    # nothing left to issue: as for ballots
    again = ok(cli(runner, "ballots", "issue", world.proposal_id, "--pdf", tmp_path / "y.pdf"))
    assert "no ballots to issue" in again

    if shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None:
        pytest.skip("needs poppler-utils and zbar-tools")
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(CODES)  # one page per household
    decoded = []
    for page in pages:
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True
        )
        decoded.append(out.stdout.strip())
    assert sorted(u.rsplit("/", 1)[1] for u in decoded) == sorted(tokens.values())
    assert all("/b/" in u for u in decoded)


def test_a_resident_sees_the_notice_and_no_banner(app, runner, client, tmp_path):
    world = _world(app)
    _pdf, tokens = _cards(app, runner, tmp_path, world.proposal_id)
    english(client)
    page = client.get(f"/b/{tokens['1-1-102']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "1-1-102" in text and "幸福里社区居委会会议室" in text and "形成统一意见" in text
    assert "not recorded yet" in text
    assert BANNER not in text and BUTTON not in text and "<form" not in text
    assert "<script" not in text
    # a resident cannot record, nor vote with the card
    anonymous = client.post(f"/b/{tokens['1-1-102']}/attend", data={})
    assert anonymous.status_code in (400, 404)  # no CSRF token, or nothing here
    assert _attendance(app, world.proposal_id) == []
    assert client.post(f"/b/{tokens['1-1-102']}", data={"q1": "agree"}).status_code in (400, 403)


def test_staff_record_a_household_once_from_its_card(app, runner, client, tmp_path):
    world = _world(app)
    _pdf, tokens = _cards(app, runner, tmp_path, world.proposal_id)
    token = tokens["2-1-201"]
    english(client)
    assert login(client, "staff1").status_code == 303
    page = client.get(f"/b/{token}").get_data(as_text=True)
    assert BANNER in page and BUTTON in page

    done = _attend(client, token, proxy_name="张三")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/b/{token}")
    after = client.get(f"/b/{token}").get_data(as_text=True)
    assert "2-1-201 is recorded as present" in after
    assert BUTTON not in after and "attendance at the hearing is recorded" in after
    rows = _attendance(app, world.proposal_id)
    assert len(rows) == 1 and rows[0].proxy_name == "张三"
    events = _attend_events(app, world.proposal_id)
    assert len(events) == 1 and events[0].subject == "2-1-201"
    assert "张三" not in str(events[0].data)  # no names in the audit log

    # a second POST (a double tap, another phone) changes nothing and says so
    page_csrf = csrf_token(
        client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
    )
    again = client.post(f"/b/{token}/attend", data={"csrf_token": page_csrf})
    assert again.status_code == 303
    assert "already recorded as present" in client.get(f"/b/{token}").get_data(as_text=True)
    assert len(_attendance(app, world.proposal_id)) == 1
    assert len(_attend_events(app, world.proposal_id)) == 1

    # the resident's view of the same card now says it is recorded, still without banner
    resident = english(app.test_client())
    text = resident.get(f"/b/{token}").get_data(as_text=True)
    assert "attendance at the hearing is recorded" in text and BANNER not in text


def test_staff_of_another_community_cannot_record(app, runner, client, tmp_path):
    world = _world(app)
    _pdf, tokens = _cards(app, runner, tmp_path, world.proposal_id)
    token = tokens["1-1-101"]
    assert login(client, "staff2").status_code == 303
    page = client.get(f"/b/{token}")
    assert page.status_code == 200 and BANNER not in page.get_data(as_text=True)
    own = client.get("/account").get_data(as_text=True)
    refused_post = client.post(f"/b/{token}/attend", data={"csrf_token": csrf_token(own)})
    assert refused_post.status_code == 404
    assert _attendance(app, world.proposal_id) == []


def test_a_card_after_the_conclusion_cannot_record(app, runner, client, tmp_path):
    world = _world(app)
    _pdf, tokens = _cards(app, runner, tmp_path, world.proposal_id)
    minutes = tmp_path / "minutes.pdf"
    minutes.write_bytes(factories.MINUTES_PDF)
    ok(cli(runner, "hearing", "attend", world.proposal_id, "1-1-101", "--by", "staff1"))
    factories.hearing_passes(app, world.proposal_id, days=8)
    ok(
        cli(
            runner, "hearing", "conclude", world.proposal_id, "--outcome", "agreed",
            "--minutes", minutes, "--by", "staff1",
        )
    )  # fmt: skip
    english(client)
    resident = client.get(f"/b/{tokens['1-1-102']}").get_data(as_text=True)
    assert "attendance was not recorded" in resident
    assert "/r/" in resident and "Public page of this hearing" in resident

    assert login(client, "staff1").status_code == 303
    page = client.get(f"/b/{tokens['1-1-102']}").get_data(as_text=True)
    assert BANNER in page and BUTTON not in page and "can no longer be recorded" in page
    token_csrf = csrf_token(client.get("/account").get_data(as_text=True))
    late = client.post(f"/b/{tokens['1-1-102']}/attend", data={"csrf_token": token_csrf})
    assert late.status_code == 303
    shown = client.get(f"/b/{tokens['1-1-102']}").get_data(as_text=True)
    assert "only while the hearing is pending" in shown
    assert count(app, HearingAttendance) == 1
    assert len(_attend_events(app, world.proposal_id)) == 1
