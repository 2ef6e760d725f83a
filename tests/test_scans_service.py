"""Scanned paper ballots read against the database (services/scans.py, `scans read`).

Ballots are printed by the app (services/printing), marked and "scanned" with
tests/scan_material.py, then read: the QR code's ballot decides other-proposal,
revoked and already-voted; the page's marks decide the rest.
"""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from residents_vote.models import Ballot
from residents_vote.services import ballots, printing, proposals, scans, voting
from tests import factories
from tests import scan_material as sm
from tests.helpers import cli, ok, write

DPI = 200


def print_ballots(app, proposal_id, codes=None):
    """Issue (or reissue for codes) and print; returns {code: (page image, geometry)}."""
    with write(app) as s:
        p = proposals.lock(s, proposal_id)
        if codes is None:
            issued = ballots.issue(s, p, actor="test")
        else:
            issued = ballots.reissue(s, p, codes, actor="test")
        shares = printing.share_texts(s, p)
        pdf = printing.ballots_pdf(s, p, issued, shares=shares)
        geo = printing.ballot_geometry(s, p, issued, shares=shares)
    images = sm.render(pdf, DPI)
    return {i.code: (img, geo) for i, img in zip(issued, images, strict=True)}


mark = partial(sm.marked, dpi=DPI)
as_pdf = partial(sm.pdf_of, dpi=DPI)


def read_pages(app, proposal_id, files):
    with app.app_context():
        return scans.read_scans(app.extensions["rv_db"].store, proposal_id, files)


@pytest.fixture
def printed(app):
    world = factories.voting_world(app, issue=False)
    return world, print_ballots(app, world.proposal_id)


def test_clear_pages_are_ok_with_the_household_and_answers(app, printed):
    world, pages = printed
    blob = as_pdf(
        mark(pages["1-1-101"]),
        mark(pages["1-1-102"], {1: ("fill", "abstain"), 2: ("tick", "agree")}),
    )
    got = read_pages(app, world.proposal_id, [("stack.pdf", blob)])
    assert got == [
        {
            "file": "stack.pdf",
            "page": 1,
            "household": "1-1-101",
            "answers": {"1": "agree", "2": "oppose"},
            "signed": True,
            "status": "ok",
            "reasons": [],
        },
        {
            "file": "stack.pdf",
            "page": 2,
            "household": "1-1-102",
            "answers": {"1": "abstain", "2": "agree"},
            "signed": True,
            "status": "ok",
            "reasons": [],
        },
    ]


def test_doubtful_marks_and_no_signature_go_to_review(app, printed):
    world, pages = printed
    blob = sm.png(
        mark(pages["2-1-201"], {1: ("blank",), 2: ("two", "agree", "oppose")}, signed=False)
    )
    (page,) = read_pages(app, world.proposal_id, [("p.png", blob)])
    assert page["status"] == "review"
    assert page["household"] == "2-1-201"
    assert page["answers"]["1"] == "blank"
    assert page["answers"]["2"] in ("multiple", "unclear")
    assert page["signed"] is not True
    assert "blank" in page["reasons"] and "unsigned" in page["reasons"]
    assert set(page["reasons"]) & {"multiple", "unclear"}


def test_a_page_without_a_qr_code(app, printed):
    world, _pages = printed
    blank = np.full((2000, 1400), 255, np.uint8)
    (page,) = read_pages(app, world.proposal_id, [("white.png", sm.png(blank))])
    assert page == {
        "file": "white.png",
        "page": 1,
        "household": None,
        "answers": {},
        "signed": None,
        "status": "review",
        "reasons": ["qr-unreadable"],
    }


def test_another_proposals_ballot_goes_to_review(app, printed):
    world, pages = printed
    other_id = factories.proposal(app, world.slug)
    other = print_ballots(app, other_id)
    (page,) = read_pages(app, world.proposal_id, [("o.png", sm.png(mark(other["1-1-101"])))])
    assert page["status"] == "review"
    assert page["reasons"] == ["other-proposal"]
    assert page["answers"] == {"1": "agree", "2": "oppose"}  # read against its own layout
    (mine,) = read_pages(app, other_id, [("o.png", sm.png(mark(other["1-1-101"])))])
    assert mine["status"] == "ok"


def test_a_revoked_ballot_goes_to_review(app, printed):
    world, pages = printed
    new = print_ballots(app, world.proposal_id, ["1-1-102"])
    old_page = sm.png(mark(pages["1-1-102"]))
    (page,) = read_pages(app, world.proposal_id, [("old.png", old_page)])
    assert (page["status"], page["reasons"]) == ("review", ["revoked"])
    (page,) = read_pages(app, world.proposal_id, [("new.png", sm.png(mark(new["1-1-102"])))])
    assert page["status"] == "ok"


def test_a_household_that_voted_online_goes_to_review(app, printed):
    world, pages = printed
    blob = sm.png(mark(pages["1-1-101"]))
    (before,) = read_pages(app, world.proposal_id, [("a.png", blob)])
    assert before["status"] == "ok"
    with write(app) as s:
        ballot = s.scalar(
            select(Ballot)
            .where(Ballot.proposal_id == world.proposal_id, Ballot.status == "live")
            .order_by(Ballot.id)
        )
        voting.cast_online(s, ballot, {1: "agree", 2: "agree"})
    (after,) = read_pages(app, world.proposal_id, [("a.png", blob)])
    assert (after["status"], after["reasons"]) == ("review", ["already-voted"])


# --------------------------------------------------------------------------- the command


def test_scans_read_command_prints_contract_json(app, runner, printed, tmp_path):
    world, pages = printed
    a = tmp_path / "a.pdf"
    a.write_bytes(as_pdf(mark(pages["1-1-101"])))
    b = tmp_path / "b.jpg"
    b.write_bytes(sm.jpeg(mark(pages["1-1-102"], signed=False), 85))
    out = ok(cli(runner, "scans", "read", world.proposal_id, a, b))
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(p["file"], p["page"], p["household"], p["status"]) for p in lines] == [
        (str(a), 1, "1-1-101", "ok"),
        (str(b), 1, "1-1-102", "review"),
    ]
    assert lines[1]["reasons"] == ["unsigned"]
    assert list(lines[0]) == ["file", "page", "household", "answers", "signed", "status", "reasons"]
    array = json.loads(ok(cli(runner, "scans", "read", world.proposal_id, a, b, "--json")))
    assert array == lines


def test_scans_read_refuses_an_unreadable_file_in_one_line(app, runner, printed, tmp_path):
    world, pages = printed
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    result = cli(runner, "scans", "read", world.proposal_id, bad)
    assert result.exit_code == 1
    assert "notes.txt" in result.output and len(result.output.strip().splitlines()) == 1
    missing = cli(runner, "scans", "read", world.proposal_id, tmp_path / "nope.pdf")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
