"""The staff phone (issue 14 item 4): a signed-in staff user of the ballot's community who
opens /b/<token> sees a banner linking to that household's paper-entry form; a photo
posted there is read and pre-fills the answers for the staff member to confirm."""

from __future__ import annotations

import html as htmllib
import io
import re

import numpy as np
from sqlalchemy import func, select

from residents_vote.models import Attachment, Vote
from residents_vote.services import ballots, printing, proposals
from tests import factories
from tests import scan_material as sm
from tests.helpers import csrf_token, login, read, write

DPI = 200
BANNER = 'class="staff-banner"'


def _world(app):
    world = factories.voting_world(app, issue=False)
    factories.community(app, "other")
    factories.staff_user(app, "staff2", ("other",))
    factories.committee_users(app, world.slug, 1)
    return world


def _issue(app, pid):
    with write(app) as s:
        p = proposals.lock(s, pid)
        issued = ballots.issue(s, p, actor="test")
        shares = printing.share_texts(s, p)
        pdf = printing.ballots_pdf(s, p, issued, shares=shares)
        geo = printing.ballot_geometry(s, p, issued, shares=shares)
        return [(i.code, i.token) for i in issued], pdf, geo


def _photo(pdf, geo) -> bytes:
    image = sm.render(pdf, DPI)[0].copy()
    rng = np.random.default_rng(5)
    sm.mark_page(image, DPI, geo, rng, plan={1: ("tick", "oppose"), 2: ("cross", "agree")})
    return sm.phone_photo(sm.cut_stub(image, DPI, geo, rng), np.random.default_rng(7))


def _paper_link(page: str) -> str | None:
    found = re.search(r'class="staff-banner".*?href="([^"]+)"', page, re.S)
    return htmllib.unescape(found.group(1)) if found else None


def test_banner_for_staff_of_the_community_only(app, client):
    world = _world(app)
    issued, _pdf, _geo = _issue(app, world.proposal_id)
    code, token = issued[0]

    anonymous = client.get(f"/b/{token}")
    assert anonymous.status_code == 200 and BANNER not in anonymous.get_data(as_text=True)

    for username in ("staff2", f"{world.slug}-m1"):
        other = app.test_client()
        assert login(other, username).status_code == 303
        page = other.get(f"/b/{token}")
        assert page.status_code == 200, username
        assert BANNER not in page.get_data(as_text=True), username

    assert login(client, "staff1").status_code == 303
    page = client.get(f"/b/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert BANNER in text and 'name="q1"' in text  # the ballot page below, unchanged
    link = _paper_link(text)
    assert link == f"/staff/proposals/{world.proposal_id}/paper?household={code}"
    form = client.get(link)
    assert form.status_code == 200
    assert f'name="household" value="{code}"' in form.get_data(as_text=True)

    admin = app.test_client()
    factories.staff_user(app, "admin1", (), role="admin")
    assert login(admin, "admin1").status_code == 303
    assert _paper_link(admin.get(f"/b/{token}").get_data(as_text=True)) == link

    # an unknown token answers as before, banner or not
    assert client.get("/b/no-such-token").status_code == 404


def test_a_photo_prefills_the_answers_and_is_kept_as_the_scan(app, client):
    world = _world(app)
    issued, pdf, geo = _issue(app, world.proposal_id)
    code, _token = issued[0]
    photo = _photo(pdf, geo)
    login(client, "staff1")
    url = f"/staff/proposals/{world.proposal_id}/paper?household={code}"
    page = client.get(url).get_data(as_text=True)
    assert 'type="file" accept="image/*" capture' in page
    action = f"/staff/proposals/{world.proposal_id}/paper"
    shown = client.post(
        action,
        data={
            "csrf_token": csrf_token(page),
            "household": code,
            "read": "1",
            "photo": (io.BytesIO(photo), "photo.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert re.search(r'name="q1" value="oppose"[^>]*checked', text)
    assert re.search(r'name="q2" value="agree"[^>]*checked', text)
    assert not re.search(r'name="q1" value="agree"[^>]*checked', text)
    assert f'name="household" value="{code}"' in text
    with read(app) as s:  # nothing recorded by reading
        assert s.scalar(select(func.count()).select_from(Vote)) == 0
    kept = re.search(r'name="photo_png" value="([^"]+)"', text).group(1)

    done = client.post(
        action,
        data={
            "csrf_token": csrf_token(text),
            "household": code,
            "q1": "oppose",
            "q2": "agree",
            "channel": "paper",
            "photo_png": kept,
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    with read(app) as s:
        vote = s.scalar(select(Vote).where(Vote.proposal_id == world.proposal_id))
        assert vote is not None and vote.channel == "paper"
        assert s.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.kind == "ballot_scan")
        ) == 1


def test_an_unsigned_or_doubtful_photo_shows_its_reasons(app, client):
    world = _world(app)
    issued, pdf, geo = _issue(app, world.proposal_id)
    code, _token = issued[0]
    image = sm.render(pdf, DPI)[0].copy()
    sm.mark_page(
        image, DPI, geo, np.random.default_rng(2),
        plan={1: ("two", "agree", "oppose"), 2: ("tick", "abstain")}, signed=False,
    )
    login(client, "staff1")
    page = client.get(f"/staff/proposals/{world.proposal_id}/paper").get_data(as_text=True)
    shown = client.post(
        f"/staff/proposals/{world.proposal_id}/paper",
        data={
            "csrf_token": csrf_token(page),
            "read": "1",
            "photo": (io.BytesIO(sm.png(image)), "photo.png"),
        },
        content_type="multipart/form-data",
    )
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "未签名" in text  # "no signature"
    assert not re.search(r'name="q1" value="\w+"[^>]*checked', text)  # a person decides
    assert re.search(r'name="q2" value="abstain"[^>]*checked', text)
    assert f'name="household" value="{code}"' in text  # from the QR code
