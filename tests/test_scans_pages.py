"""Staff pages for scanned ballots, on the test client: the upload form on the
proposal's page, the batch page with every page's reading and image, one button for the
ok pages, a form per review page; the same upload again records nothing twice."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from residents_vote.models import Attachment, ScanPage, Vote
from residents_vote.services import ballots, printing, proposals
from tests import factories
from tests import scan_material as sm
from tests.helpers import csrf_token, login, read, write

DPI = 200


def _stack(app, pid) -> bytes:
    with write(app) as s:
        p = proposals.lock(s, pid)
        issued = ballots.issue(s, p, actor="test")
        shares = printing.share_texts(s, p)
        pdf = printing.ballots_pdf(s, p, issued, shares=shares)
        geo = printing.ballot_geometry(s, p, issued, shares=shares)
    images = sm.render(pdf, DPI)
    plans = [
        ({1: ("tick", "agree"), 2: ("cross", "oppose")}, True),
        ({1: ("two", "agree", "oppose"), 2: ("tick", "agree")}, True),
    ]
    marked = []
    for image, (plan, signed) in zip(images[:2], plans, strict=True):  # 3rd not returned
        image = image.copy()
        sm.mark_page(image, DPI, geo, np.random.default_rng(3), plan=plan, signed=signed)
        marked.append(Image.fromarray(sm.cut_stub(image, DPI, geo, np.random.default_rng(3))))
    out = io.BytesIO()
    marked[0].save(out, "PDF", save_all=True, append_images=marked[1:], resolution=DPI)
    return out.getvalue()


def _votes(app, pid) -> int:
    with read(app) as s:
        return s.scalar(select(func.count()).select_from(Vote).where(Vote.proposal_id == pid))


def test_upload_review_and_record_on_the_staff_pages(app, client):
    world = factories.voting_world(app, issue=False)
    blob = _stack(app, world.proposal_id)
    assert login(client, "staff1").status_code == 303
    page = client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
    action = f"/staff/proposals/{world.proposal_id}/scans/upload"
    assert f'action="{action}"' in page
    token = csrf_token(page, action)

    sent = client.post(
        action,
        data={"csrf_token": token, "files": [(io.BytesIO(blob), "stack.pdf")]},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    batch_url = sent.headers["Location"]
    html = client.get(batch_url).get_data(as_text=True)
    assert "1-1-101" in html and "1-1-102" in html
    images = re.findall(r'src="(/staff/scans/pages/\d+/image)"', html)
    crops = re.findall(r'src="(/staff/scans/pages/\d+/crops/q1)"', html)
    assert len(images) == 2 and len(crops) == 1  # the doubtful question enlarged
    for src in images + crops:
        got = client.get(src)
        assert got.status_code == 200 and got.data.startswith(b"\x89PNG")

    record = re.search(r'action="(/staff/scans/\d+/record)"', html).group(1)
    assert client.post(record, data={"csrf_token": csrf_token(html, record)}).status_code == 303
    assert _votes(app, world.proposal_id) == 1

    html = client.get(batch_url).get_data(as_text=True)
    decide = re.search(r'action="(/staff/scans/pages/\d+/decide)"', html).group(1)
    refused = client.post(decide, data={"csrf_token": csrf_token(html, decide), "q2": "agree"})
    assert refused.status_code == 303 and _votes(app, world.proposal_id) == 1  # q1 missing
    done = client.post(
        decide,
        data={
            "csrf_token": csrf_token(html, decide),
            "q1": "oppose",
            "q2": "agree",
        },
    )
    assert done.status_code == 303 and _votes(app, world.proposal_id) == 2
    html = client.get(batch_url).get_data(as_text=True)
    assert "/decide" not in html and "/record" not in html  # nothing left to decide
    with read(app) as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Attachment).where(Attachment.kind == "ballot_scan")
            )
            == 2
        )
        assert (
            s.scalar(
                select(func.count()).select_from(ScanPage).where(ScanPage.decision == "recorded")
            )
            == 2
        )

    # the same file again: the same batch, nothing recorded twice
    page = client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
    again = client.post(
        action,
        data={"csrf_token": csrf_token(page, action), "files": [(io.BytesIO(blob), "stack.pdf")]},
        content_type="multipart/form-data",
    )
    assert again.headers["Location"] == batch_url
    assert _votes(app, world.proposal_id) == 2
    listing = client.get(f"/staff/proposals/{world.proposal_id}/scans").get_data(as_text=True)
    assert listing.count(f'href="{batch_url}"') == 1 and "stack.pdf" in listing


def test_a_page_that_is_no_pdf_or_photo_is_refused(app, client):
    world = factories.voting_world(app)
    login(client, "staff1")
    page = client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
    action = f"/staff/proposals/{world.proposal_id}/scans/upload"
    sent = client.post(
        action,
        data={"csrf_token": csrf_token(page, action), "files": [(io.BytesIO(b"hello"), "a.txt")]},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith(f"/staff/proposals/{world.proposal_id}")
    assert "a.txt" in client.get(sent.headers["Location"]).get_data(as_text=True)


def test_a_page_without_a_ballot_is_rejected_by_its_button(app, client):
    world = factories.voting_world(app)
    login(client, "staff1")
    page = client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
    action = f"/staff/proposals/{world.proposal_id}/scans/upload"
    white = sm.png(np.full((1600, 1100), 255, np.uint8))
    sent = client.post(
        action,
        data={"csrf_token": csrf_token(page, action), "files": [(io.BytesIO(white), "w.png")]},
        content_type="multipart/form-data",
    )
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "/record" not in html  # no ok page: no confirmation button
    decide = re.search(r'action="(/staff/scans/pages/\d+/decide)"', html).group(1)
    token = csrf_token(html, decide)
    refused = client.post(decide, data={"csrf_token": token, "q1": "agree", "q2": "agree"})
    assert refused.status_code == 303  # no household on the page: nothing to record
    assert client.post(decide, data={"csrf_token": token, "reject": "1"}).status_code == 303
    with read(app) as s:
        assert s.scalar(select(ScanPage.decision)) == "rejected"
    assert _votes(app, world.proposal_id) == 0
