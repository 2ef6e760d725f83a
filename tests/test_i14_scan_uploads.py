"""Scan uploads of a real office: a larger body limit on the scan upload only (413 page,
translated, never a 500, above it), a page limit per batch, and a batch larger than
SCAN_READ_AT_ONCE_PAGES read in the background while its page refreshes itself."""

from __future__ import annotations

import datetime as dt
import io
import threading

import numpy as np
import pytest
from sqlalchemy import func, select

from residents_vote.models import ScanBatch, ScanPage
from residents_vote.services import scans
from residents_vote.services.errors import Invalid
from tests import factories
from tests import scan_material as sm
from tests.helpers import csrf_token, login, read

MB = 1024 * 1024


def _post(client, pid: int, blob: bytes, name: str = "stack.pdf"):
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    action = f"/staff/proposals/{pid}/scans/upload"
    return client.post(
        action,
        data={"csrf_token": csrf_token(page, action), "files": [(io.BytesIO(blob), name)]},
        content_type="multipart/form-data",
    )


def _white_pages(n: int) -> bytes:
    """A PDF of n blank scanned pages (no ballot: each goes to review)."""
    from PIL import Image

    pages = [Image.fromarray(np.full((1100, 800), 255, np.uint8)) for _ in range(n)]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=100)
    return out.getvalue()


def _batches(app) -> int:
    with read(app) as s:
        return s.scalar(select(func.count()).select_from(ScanBatch))


def test_the_scan_upload_takes_more_than_other_uploads(app, client):
    world = factories.voting_world(app)
    app.config.update(MAX_CONTENT_LENGTH=1 * MB, SCAN_UPLOAD_MAX_MB=3)
    login(client, "staff1")
    # 2 MB: above the app's limit, below the scan upload's: accepted (and refused as
    # no PDF, by the service, with the file named)
    sent = _post(client, world.proposal_id, b"x" * (2 * MB), "big.txt")
    assert sent.status_code == 303
    assert "big.txt" in client.get(sent.headers["Location"]).get_data(as_text=True)
    # the same 2 MB to another upload (the register import) is too large
    page = client.get(f"/staff/c/{world.slug}").get_data(as_text=True)
    action = f"/staff/c/{world.slug}/import"
    other = client.post(
        action,
        data={
            "csrf_token": csrf_token(page, action),
            "file": (io.BytesIO(b"x" * (2 * MB)), "r.csv"),
        },
        content_type="multipart/form-data",
    )
    assert other.status_code == 413 and "1 MB" in other.get_data(as_text=True)


def test_above_the_scan_limit_a_translated_413_page(app, client):
    world = factories.voting_world(app)
    app.config.update(SCAN_UPLOAD_MAX_MB=1)
    login(client, "staff1")
    sent = _post(client, world.proposal_id, b"%PDF" + b"x" * (2 * MB))
    assert sent.status_code == 413
    html = sent.get_data(as_text=True)
    assert "1 MB" in html and "分批" in html  # the limit, and what to do, in Chinese
    assert _batches(app) == 0
    en = client.post(
        f"/staff/proposals/{world.proposal_id}/scans/upload?lang=en",
        data={"files": [(io.BytesIO(b"x" * (2 * MB)), "s.pdf")]},
        content_type="multipart/form-data",
    )
    assert en.status_code == 413 and "at most 1 MB" in en.get_data(as_text=True)


def test_a_batch_above_the_page_limit_is_refused(app, client):
    world = factories.voting_world(app)
    app.config.update(SCAN_BATCH_MAX_PAGES=2)
    login(client, "staff1")
    sent = _post(client, world.proposal_id, _white_pages(3))
    assert sent.status_code == 303
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "3" in html and "2" in html and "分批" in html
    assert _batches(app) == 0
    assert _post(client, world.proposal_id, _white_pages(2)).status_code == 303
    assert _batches(app) == 1


def _join_readers() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("scan-batch-"):
            thread.join(120)


def test_a_large_batch_is_read_in_the_background_while_its_page_refreshes(app, client):
    world = factories.voting_world(app)
    app.config.update(SCAN_READ_AT_ONCE_PAGES=1)
    login(client, "staff1")
    blob = _white_pages(3)
    gate = threading.Event()
    real = scans.read_files

    def held(*args, **kwargs):  # the reading waits until the test has seen the page
        assert gate.wait(60)
        return real(*args, **kwargs)

    scans.read_files = held
    try:
        sent = _post(client, world.proposal_id, blob)
        assert sent.status_code == 303
        html = client.get(sent.headers["Location"]).get_data(as_text=True)
        assert '<meta http-equiv="refresh" content="3">' in html
        assert "3" in html and "/decide" not in html
        again = _post(client, world.proposal_id, blob)  # while reading: the same batch
        assert again.headers["Location"] == sent.headers["Location"]
    finally:
        gate.set()
        _join_readers()
        scans.read_files = real
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in html
    assert html.count("/decide") == 3  # three pages, each waiting for a person
    with read(app) as s:
        assert s.scalar(select(ScanBatch.state)) == "ready"
        assert s.scalar(select(func.count()).select_from(ScanPage)) == 3


def test_a_failed_or_dead_reading_is_shown_and_started_again(app, client):
    world = factories.voting_world(app)
    store = app.extensions["rv_db"].store
    blob = _white_pages(1)
    with app.app_context():
        started = scans.start_batch(store, world.proposal_id, [("a.pdf", blob)], username="staff1")
        with pytest.raises(Invalid):
            scans.read_batch(store, started.batch_id, [("a.pdf", b"%PDF-1.4 broken")])
    with read(app) as s:
        assert s.get(ScanBatch, started.batch_id).state == "failed"
    login(client, "staff1")
    html = client.get(f"/staff/scans/{started.batch_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in html and "flash error" in html
    # the same upload again reads it again, in the same batch
    sent = _post(client, world.proposal_id, blob, "a.pdf")
    assert sent.headers["Location"].endswith(f"/staff/scans/{started.batch_id}")
    with read(app) as s:
        assert s.get(ScanBatch, started.batch_id).state == "ready"

    # a reading started long ago and never finished (the process died) starts again too
    other = _white_pages(2)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with app.app_context():
        dead = scans.start_batch(
            store, world.proposal_id, [("b.pdf", other)], username="staff1", now=long_ago
        )
        again = scans.start_batch(store, world.proposal_id, [("b.pdf", other)], username="staff1")
    assert again.batch_id == dead.batch_id and not again.existing


def test_pages_are_rendered_one_at_a_time():
    pdf = _white_pages(3)
    from residents_vote import scans as reader

    pages = reader.iter_pages(pdf)
    first = next(pages)
    assert first.number == 1 and first.image.ndim == 2
    assert reader.count_pages(pdf) == 3 and sum(1 for _ in pages) == 2
    assert reader.count_pages(sm.png(np.full((50, 50), 255, np.uint8))) == 1
