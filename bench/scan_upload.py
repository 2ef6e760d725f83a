"""Benchmark: a batch of scanned paper ballots through the staff upload page.

    .venv/bin/python bench/scan_upload.py [--pages 100] [--dpi 200]

Builds a throwaway SQLite app with a register of PAGES households and an open vote,
prints their ballots with the app, marks and "scans" them (tests/scan_material.py:
flatbed, +-2 degrees, noise, JPEG) into one multi-page PDF, then posts that PDF to
the staff upload route on the Flask test client as a logged-in staff member and
times the request (a batch of more than SCAN_READ_AT_ONCE_PAGES is read in the
background) and the time until the batch page stops refreshing itself (every page
read, its image and crops kept). Prints the PDF's size, both times and pages/second.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from residents_vote import create_app  # noqa: E402
from residents_vote.cli import upgrade_database  # noqa: E402
from residents_vote.services import ballots, printing, proposals  # noqa: E402
from tests import factories  # noqa: E402
from tests import scan_material as sm  # noqa: E402
from tests.helpers import TEST_CONFIG, csrf_token, login, write  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"})
        upgrade_database(app)
        rows = [
            (str(1 + i // 20), "1", str(101 + i % 20), f"{80 + i % 40}.50", f"业主{i}", "")
            for i in range(args.pages)
        ]
        world = factories.voting_world(app, rows=rows, issue=False)
        with write(app) as s:
            p = proposals.lock(s, world.proposal_id)
            issued = ballots.issue(s, p, actor="bench")
            shares = printing.share_texts(s, p)
            pdf = printing.ballots_pdf(s, p, issued, shares=shares)
            geo = printing.ballot_geometry(s, p, issued, shares=shares)
        t = time.perf_counter()
        blob = sm.scanned_batch(pdf, geo, args.dpi, [(None, True)] * args.pages)
        made = time.perf_counter() - t
        print(f"PDF: {len(blob) / 1e6:.1f} MB ({len(blob) / args.pages / 1e3:.0f} kB/page)")
        client = app.test_client()
        login(client, "staff1")
        page = client.get(f"/staff/proposals/{world.proposal_id}").get_data(as_text=True)
        action = f"/staff/proposals/{world.proposal_id}/scans/upload"
        data = {"csrf_token": csrf_token(page, action), "files": [(io.BytesIO(blob), "s.pdf")]}
        t = time.perf_counter()
        sent = client.post(action, data=data, content_type="multipart/form-data")
        took = time.perf_counter() - t
        assert sent.status_code == 303, sent.status_code
        while 'http-equiv="refresh"' in (html := client.get(sent.headers["Location"]).text):
            time.sleep(0.2)  # the batch page refreshes itself while a background read runs
        ready = time.perf_counter() - t
        ok = len(re.findall(r"<tr id=\"page-", html))
        app.extensions["rv_db"].engine.dispose()
    print(f"material: {args.pages} pages at {args.dpi} dpi made in {made:.1f} s")
    print(f"upload request answered in {took:.1f} s; batch page ready after {ready:.1f} s")
    print(f"{args.pages / ready:.1f} pages/s; {ok} pages listed")


if __name__ == "__main__":
    main()
