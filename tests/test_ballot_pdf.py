"""The printable ballots of `ballots issue`: each page's QR code is a working ballot link,
and its text names the household (room, owner, community) in extractable Chinese.

Uses poppler-utils (pdftoppm, pdftotext) and zbar-tools (zbarimg), as an operator would.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from residents_vote.models import Vote
from tests import factories
from tests.helpers import csrf_token, ok, read

TOOLS = ("pdftoppm", "pdftotext", "zbarimg")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="needs poppler-utils (pdftoppm, pdftotext) and zbar-tools (zbarimg)",
)


def run(*args: str | Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def page_text(pdf: Path, page: int) -> str:
    return run("pdftotext", "-f", page, "-l", page, "-layout", pdf, "-")


def qr_on_page(pdf: Path, page: int, workdir: Path) -> str:
    prefix = workdir / f"page{page}"
    run("pdftoppm", "-r", "150", "-png", "-f", page, "-l", page, "-singlefile", pdf, prefix)
    return run("zbarimg", "--raw", "-q", prefix.with_suffix(".png")).strip()


@pytest.fixture
def issued(app, runner, tmp_path):
    """A vote for the three sample households, ballots issued by the CLI."""
    world = factories.voting_world(app, issue=False)
    pdf, links = tmp_path / "ballots.pdf", tmp_path / "links.csv"
    ok(
        runner.invoke(
            args=[
                "ballots",
                "issue",
                str(world.proposal_id),
                "--pdf",
                str(pdf),
                "--links",
                str(links),
            ]
        )
    )
    rows = list(csv.DictReader(io.StringIO(links.read_text(encoding="utf-8"))))
    return world, pdf, rows


def test_qr_code_on_the_first_page_is_a_working_ballot(app, client, issued, tmp_path):
    world, pdf, rows = issued
    url = qr_on_page(pdf, 1, tmp_path)
    assert url == rows[0]["url"]
    assert url.startswith("http://localhost/b/")
    path = urlsplit(url).path
    client.set_cookie("lang", "en")
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert rows[0]["household"] in html
    response = client.post(
        path,
        data={"csrf_token": csrf_token(html), "q1": "agree", "q2": "oppose", "confirm": "yes"},
    )
    assert response.status_code == 303
    with read(app) as s:
        vote = s.scalar(select(Vote))
        assert vote.channel == "online"
        assert [a.answer for a in vote.answers] == ["agree", "oppose"]


def test_each_page_names_its_household(issued):
    _, pdf, rows = issued
    assert len(rows) == len(factories.HOUSEHOLDS)
    by_code = {factories.code(row): row for row in factories.HOUSEHOLDS}
    for number, row in enumerate(rows, 1):
        text = page_text(pdf, number)
        _building, _unit, room, area, owner, _phone = by_code[row["household"]]
        assert room in text, (number, text)
        assert owner in text, (number, text)
        assert area in text
        assert factories.COMMUNITY_NAME in text
        assert row["serial"] in text
        # Another household's owner is not on this page.
        others = {r[4] for r in factories.HOUSEHOLDS} - {owner}
        assert not any(other in text for other in others)
    assert len(PdfReader(pdf).pages) == len(rows)  # one page per ballot
