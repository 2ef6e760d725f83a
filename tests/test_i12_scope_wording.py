"""Issue 12 item 6: a scope building must be in the register, and a proposal with
several questions says on its notice and its ballot that it is adopted only if every
question passes (DOMAIN.md section 2, "the notice and the ballot say so in those words").
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from residents_vote.models import Proposal
from residents_vote.services import proposals
from residents_vote.services.errors import Invalid
from tests import factories
from tests.helpers import (
    PROPOSAL_CREATE,
    cli,
    count,
    csrf_token,
    login,
    ok,
    read,
    refused,
    snapshot,
    token_of,
    write,
)
from tests.helpers import links as links_rows

EN = "This proposal has 2 questions; it is adopted only if every question passes."
ZH = "本议案共2项表决事项，每一项均获通过，本议案方为通过。"


def squash(text: str) -> str:
    """All whitespace removed: Chinese wrapped over PDF lines reads as one string."""
    return "".join(text.split())


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF"), data[:40]
    pages = PdfReader(io.BytesIO(data)).pages
    return "\n".join(page.extract_text() or "" for page in pages).replace("\x00", "")


@pytest.fixture
def hx(app):
    factories.community(app, "hx")  # buildings 1 and 2
    factories.staff_user(app, "staff1", ("hx",))
    return "hx"


# --- scope -------------------------------------------------------------------------------


def test_cli_create_refuses_a_scope_building_not_in_the_register(app, runner, hx):
    before = snapshot(app)
    err = refused(cli(runner, *PROPOSAL_CREATE, "--scope", "1,9"))
    assert "scope building 9 is not in the register" in err.lower(), err
    assert count(app, Proposal) == 0
    assert snapshot(app) == before


def test_cli_create_names_every_missing_building(app, runner, hx):
    err = refused(cli(runner, *PROPOSAL_CREATE, "--scope", "8, 2, 9"))
    assert "8" in err and "9" in err and "not in the register" in err, err
    assert "2" not in err.replace("register", ""), err


def test_cli_create_accepts_registered_buildings(app, runner, hx):
    pid = int(ok(cli(runner, *PROPOSAL_CREATE, "--scope", "1, 2")))
    with read(app) as s:
        assert s.get(Proposal, pid).scope_buildings == ["1", "2"]


def test_a_building_whose_households_all_left_the_register_is_refused(app, runner, hx):
    factories.import_register(app, "hx", factories.HOUSEHOLDS[:2], remove_missing=True)
    err = refused(cli(runner, *PROPOSAL_CREATE, "--scope", "2"))
    assert "scope building 2 is not in the register" in err.lower(), err


def test_an_empty_register_refuses_any_scope(app, runner):
    factories.community(app, "empty", rows=None)
    err = refused(cli(runner, "proposal", "create", "empty", *PROPOSAL_CREATE[3:], "--scope", "1"))
    assert "not in the register" in err


def test_service_update_refuses_an_unknown_scope_building(app, hx):
    pid = factories.proposal(app, open_vote=False)
    with write(app) as s:
        p = s.get(Proposal, pid)
        draft = proposals.Draft(title="t", stage="design", questions=["q"], scope=["7"])
        with pytest.raises(Invalid, match="Scope building 7 is not in the register"):
            proposals.update(s, p, draft, actor="test")


def test_staff_form_refuses_an_unknown_scope_building_on_create_and_edit(app, client, hx):
    login(client, "staff1")
    client.set_cookie("lang", "en")
    html = client.get("/staff/c/hx/proposals/new").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "title": "加装电梯",
        "questions": "是否同意？",
        "stage": "design",
        "rule": "seed",
        "verify": "none",
        "scope": "1, 9",
    }
    response = client.post("/staff/c/hx/proposals/new", data=form)
    assert response.status_code == 422
    assert "Scope building 9 is not in the register" in response.get_data(as_text=True)
    assert count(app, Proposal) == 0

    pid = factories.proposal(app, open_vote=False)
    html = client.get(f"/staff/proposals/{pid}/edit").get_data(as_text=True)
    response = client.post(
        f"/staff/proposals/{pid}/edit", data={**form, "csrf_token": csrf_token(html)}
    )
    assert response.status_code == 422
    assert "Scope building 9 is not in the register" in response.get_data(as_text=True)
    with read(app) as s:
        assert s.get(Proposal, pid).scope == ""

    client.set_cookie("lang", "zh_CN")
    response = client.post(
        f"/staff/proposals/{pid}/edit", data={**form, "csrf_token": csrf_token(html)}
    )
    assert response.status_code == 422
    assert "9" in response.get_data(as_text=True)


# --- "adopted only if every question passes" ----------------------------------------------


def test_multi_question_notice_page_and_pdf_say_every_question_must_pass(app, client, hx):
    pid = factories.proposal(app)  # two questions
    with read(app) as s:
        pub = s.get(Proposal, pid).public_id
    zh_page = client.get(f"/r/{pub}").get_data(as_text=True)
    assert ZH in squash(zh_page)
    assert ZH in squash(pdf_text(client.get(f"/r/{pub}/notice.pdf").data))
    client.set_cookie("lang", "en")
    assert EN in " ".join(client.get(f"/r/{pub}").get_data(as_text=True).split())


def test_multi_question_ballot_page_and_printed_ballot_say_so(app, client, runner, tmp_path):
    world = factories.voting_world(app, issue=False)
    pdf, links = tmp_path / "ballots.pdf", tmp_path / "links.csv"
    ok(cli(runner, "ballots", "issue", world.proposal_id, "--pdf", pdf, "--links", links))
    text = squash(pdf_text(pdf.read_bytes()))
    assert text.count(ZH) == 3, text[:400]  # one per household's page
    token = token_of(links_rows(links)[0])
    page = client.get(f"/b/{token}")
    assert page.status_code == 200
    assert ZH in squash(page.get_data(as_text=True))
    client.set_cookie("lang", "en")
    assert EN in " ".join(client.get(f"/b/{token}").get_data(as_text=True).split())


def test_a_single_question_proposal_does_not_carry_the_sentence(app, client, runner, tmp_path):
    world = factories.voting_world(app, issue=False, questions=["是否同意加装电梯？"])
    pdf = tmp_path / "ballots.pdf"
    ok(cli(runner, "ballots", "issue", world.proposal_id, "--pdf", pdf))
    assert "方为通过" not in squash(pdf_text(pdf.read_bytes()))
    with read(app) as s:
        pub = s.get(Proposal, world.proposal_id).public_id
    assert "方为通过" not in client.get(f"/r/{pub}").get_data(as_text=True)
    assert "方为通过" not in squash(pdf_text(client.get(f"/r/{pub}/notice.pdf").data))
