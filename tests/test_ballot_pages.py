"""The resident's ballot page /b/<token> (CONTRACT.md "Resident pages"): every status.

Pages are requested in English (lang cookie) so the assertions do not depend on the
Chinese catalog; the Chinese data (names, questions) shows as entered either way.
"""

from __future__ import annotations

import re
import threading
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from residents_vote import create_app
from residents_vote.models import Ballot, Vote
from residents_vote.services import proposals
from tests import factories
from tests.helpers import (
    BOTH_AGREE,
    CHEAP_HASH,
    count,
    csrf_token,
    element_text,
    english,
    form_fields,
    read,
    submit,
    write,
)

RECEIPT = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4})+$")
HOUSEHOLD = "1-1-101"  # area 87.65, phone ending 1234


def recorded_answers(html: str) -> list[str]:
    """The answers shown in the receipt table, in question order."""
    return re.findall(
        r'<th scope="row">\s*\d+\.[^<]*</th>\s*<td[^>]*>\s*<strong>([^<]+)</strong>', html
    )


def page(client, url: str):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def votes(app) -> int:
    return count(app, Vote)


@pytest.fixture
def resident(client):
    return english(client)


# --- GET ---------------------------------------------------------------------------------


def test_ballot_page_shows_household_area_and_questions(world, resident):
    response, html = page(resident, world.url(HOUSEHOLD))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert HOUSEHOLD in html
    assert "87.65" in html
    assert factories.TITLE in html
    for question in factories.QUESTIONS:
        assert question in html
    fields = form_fields(html, world.url(HOUSEHOLD))
    assert fields.get("csrf_token")
    assert "phone4" not in html
    # Names and phones are never shown on a resident page.
    assert "张伟" not in html and "13800001234" not in html


def test_area_always_has_two_decimals(app, resident):
    rows = [("5", "", "3", "120", "赵六", "")]
    world = factories.voting_world(app, rows=rows)
    response, html = page(resident, world.url("5-3"))
    assert response.status_code == 200
    assert "120.00" in html


def test_unknown_token_is_404(world, resident):
    for token in ("x" * 24, "nope", "A" * 101):
        response = resident.get(f"/b/{token}")
        assert response.status_code == 404, token
    assert resident.post("/b/" + "x" * 24, data={}).status_code in (400, 404)


def test_revoked_ballot_is_410_for_get_and_post(app, world, resident):
    old = world.url(HOUSEHOLD)
    _, html = page(resident, old)
    token = csrf_token(html)
    with write(app) as s:
        from residents_vote.services import ballots

        new = ballots.reissue(s, proposals.lock(s, world.proposal_id), [HOUSEHOLD], actor="t")
    assert resident.get(old).status_code == 410
    response = resident.post(old, data={"csrf_token": token, **BOTH_AGREE, "confirm": "yes"})
    assert response.status_code == 410
    assert votes(app) == 0
    assert resident.get(f"/b/{new[0].token}").status_code == 200


def test_before_the_start_is_403_and_says_when(app, resident):
    starts = factories.ahead(days=2)
    closes = factories.ahead(days=9)
    world = factories.voting_world(app, starts=starts, closes=closes)
    response, html = page(resident, world.url(HOUSEHOLD))
    assert response.status_code == 403
    shanghai = ZoneInfo("Asia/Shanghai")
    assert starts.astimezone(shanghai).strftime("%Y-%m-%d %H:%M") in html
    assert closes.astimezone(shanghai).strftime("%Y-%m-%d %H:%M") in html
    assert "87.65" in html
    # A token from some other page still cannot post before the start.
    _, other = page(resident, "/login")
    response = resident.post(
        world.url(HOUSEHOLD),
        data={"csrf_token": csrf_token(other), **BOTH_AGREE, "confirm": "yes"},
    )
    assert response.status_code == 403
    assert votes(app) == 0


def test_after_the_close_is_403_and_says_when(app, resident):
    closes = factories.ago(hours=1)
    world = factories.voting_world(
        app, opened_at=factories.ago(days=3), starts=factories.ago(days=3), closes=closes
    )
    response, html = page(resident, world.url(HOUSEHOLD))
    assert response.status_code == 403
    shanghai = ZoneInfo("Asia/Shanghai")
    assert closes.astimezone(shanghai).strftime("%Y-%m-%d %H:%M") in html
    response = resident.post(
        world.url(HOUSEHOLD),
        data={
            "csrf_token": csrf_token(page(resident, "/login")[1]),
            **BOTH_AGREE,
            "confirm": "yes",
        },
    )
    assert response.status_code == 403
    assert votes(app) == 0


def test_vote_closing_while_the_page_is_open_is_refused(app, world, resident):
    """Loaded while open, submitted after the close: 403, nothing recorded."""
    _, html = page(resident, world.url(HOUSEHOLD))
    with write(app) as s:
        p = proposals.lock(s, world.proposal_id)
        p.closes_at = factories.ago(minutes=1)
    response = resident.post(
        world.url(HOUSEHOLD), data={"csrf_token": csrf_token(html), **BOTH_AGREE, "confirm": "yes"}
    )
    assert response.status_code == 403
    assert votes(app) == 0


# --- POST --------------------------------------------------------------------------------


def test_post_without_confirm_shows_the_confirmation_page(app, world, resident):
    response = submit(
        resident, world.url(HOUSEHOLD), {"q1": "agree", "q2": "oppose"}, confirm=False
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Confirm" in html
    confirm_form = [f for f in _forms(html) if f.get("confirm") == "yes"]
    assert confirm_form and confirm_form[0]["q1"] == "agree" and confirm_form[0]["q2"] == "oppose"
    assert votes(app) == 0
    # Submitting the confirmation form as it is records the vote.
    response = resident.post(world.url(HOUSEHOLD), data=confirm_form[0])
    assert response.status_code == 303
    assert votes(app) == 1


def _forms(html: str) -> list[dict]:
    from tests.helpers import forms

    return [f["fields"] for f in forms(html)]


def test_change_my_choices_goes_back_to_the_form(app, world, resident):
    response = submit(
        resident, world.url(HOUSEHOLD), {"q1": "agree", "q2": "oppose"}, confirm=False
    )
    edit = [f for f in _forms(response.get_data(as_text=True)) if f.get("edit")]
    response = resident.post(world.url(HOUSEHOLD), data=edit[0])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    fields = form_fields(html, world.url(HOUSEHOLD))
    assert (fields["q1"], fields["q2"]) == ("agree", "oppose")
    assert votes(app) == 0


@pytest.mark.parametrize(
    "answers",
    [
        {"q1": "agree"},  # q2 missing
        {},
        {"q1": "agree", "q2": ""},
        {"q1": "agree", "q2": "yes"},  # unknown value
        {"q1": "invalid", "q2": "agree"},  # only staff may enter "invalid"
        {"q1": "AGREE", "q2": "agree"},
    ],
)
def test_missing_or_unknown_answer_is_422(app, world, resident, answers):
    for confirm in (False, True):
        response = submit(resident, world.url(HOUSEHOLD), answers, confirm=confirm)
        assert response.status_code == 422, (answers, confirm)
    assert votes(app) == 0
    assert resident.get(world.url(HOUSEHOLD)).status_code == 200


def test_confirmed_vote_redirects_to_the_receipt(app, world, resident):
    url = world.url(HOUSEHOLD)
    response = submit(resident, url, {"q1": "agree", "q2": "oppose"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url)
    response, html = page(resident, url)
    assert response.status_code == 200
    receipt = element_text(html, "receipt")
    assert receipt and RECEIPT.match(receipt), receipt
    assert len(receipt.replace("-", "")) >= 8
    assert recorded_answers(html) == ["Agree", "Oppose"]
    assert "87.65" in html
    with read(app) as s:
        vote = s.scalar(select(Vote))
        assert vote.channel == "online"
        assert vote.receipt_code == receipt.replace("-", "")
        assert [(a.question_number, a.answer) for a in vote.answers] == [
            (1, "agree"),
            (2, "oppose"),
        ]
        assert s.scalar(select(Ballot.status).where(Ballot.id == vote.ballot_id)) == "used"


def test_second_vote_is_409_and_shows_the_first(app, world, resident):
    url = world.url(HOUSEHOLD)
    _, html = page(resident, url)
    token = csrf_token(html)
    first = resident.post(
        url, data={"csrf_token": token, "q1": "oppose", "q2": "abstain", "confirm": "yes"}
    )
    assert first.status_code == 303
    receipt = element_text(page(resident, url)[1], "receipt")
    again = resident.post(url, data={"csrf_token": token, **BOTH_AGREE, "confirm": "yes"})
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert element_text(html, "receipt") == receipt
    assert recorded_answers(html) == ["Oppose", "Abstain"]
    # Even without confirmation, or with bad answers, the answer is 409.
    for data in ({**BOTH_AGREE}, {"q1": "nonsense"}):
        assert resident.post(url, data={"csrf_token": token, **data}).status_code == 409
    assert votes(app) == 1


def test_missing_or_bad_csrf_token_is_400(app, world, resident):
    url = world.url(HOUSEHOLD)
    page(resident, url)
    assert resident.post(url, data={**BOTH_AGREE, "confirm": "yes"}).status_code == 400
    bad = {"csrf_token": "forged", **BOTH_AGREE, "confirm": "yes"}
    assert resident.post(url, data=bad).status_code == 400
    assert votes(app) == 0


def test_form_submitted_hours_after_loading_is_accepted(app, world, resident, monkeypatch):
    """No CSRF time limit: a token signed ten hours ago still works."""
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 10 * 3600)
    _, html = page(resident, world.url(HOUSEHOLD))
    token = csrf_token(html)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    response = resident.post(
        world.url(HOUSEHOLD), data={"csrf_token": token, **BOTH_AGREE, "confirm": "yes"}
    )
    assert response.status_code == 303
    assert votes(app) == 1


def test_each_household_votes_with_its_own_ballot(app, world, resident):
    for household in world.tokens:
        assert submit(resident, world.url(household), BOTH_AGREE).status_code == 303
    assert votes(app) == len(factories.HOUSEHOLDS)


# --- phone4 ------------------------------------------------------------------------------


@pytest.fixture
def phone_world(app):
    return factories.voting_world(app, verify="phone4")


def test_phone4_field_is_on_the_form(phone_world, resident):
    _, html = page(resident, phone_world.url(HOUSEHOLD))
    assert re.search(r'<input[^>]*name="phone4"', html)


def test_phone4_wrong_is_422_and_right_records(app, phone_world, resident):
    url = phone_world.url(HOUSEHOLD)
    for wrong in ("0000", "", "123", "12345", "5678"):
        for confirm in (False, True):
            response = submit(resident, url, BOTH_AGREE, confirm=confirm, phone4=wrong)
            assert response.status_code == 422, (wrong, confirm)
        if wrong == "0000":
            assert re.search(r'<input[^>]*name="phone4"', response.get_data(as_text=True))
        assert votes(app) == 0
    # The ballot is still usable afterwards (limits are tested with RATELIMIT_ENABLED).
    response = submit(resident, url, BOTH_AGREE, confirm=False, phone4="1234")
    assert response.status_code == 200
    confirm_form = [f for f in _forms(response.get_data(as_text=True)) if f.get("confirm")]
    assert confirm_form[0]["phone4"] == "1234"
    assert resident.post(url, data=confirm_form[0]).status_code == 303
    assert votes(app) == 1


def test_phone4_without_a_registered_phone_is_not_asked_for_digits(app, phone_world, resident):
    # 2-1-201 has no phone in the register: nothing to check against.
    response = submit(resident, phone_world.url("2-1-201"), BOTH_AGREE, phone4="")
    assert response.status_code == 303
    assert votes(app) == 1


# --- failure rate limits -------------------------------------------------------------------


@pytest.fixture
def limited_app(database_url):
    """A fresh app with rate limits on (the usual fixture turns them off)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": database_url,
            "PASSWORD_HASH": CHEAP_HASH,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "BASE_URL": "http://localhost",
        }
    )
    from residents_vote.cli import upgrade_database

    upgrade_database(app)
    yield app
    app.extensions["rv_db"].engine.dispose()


def test_repeated_phone4_failures_get_429_but_other_ballots_work(limited_app):
    world = factories.voting_world(limited_app, verify="phone4")
    client = english(limited_app.test_client())
    url = world.url(HOUSEHOLD)
    statuses = [submit(client, url, BOTH_AGREE, phone4="0000").status_code for _ in range(8)]
    assert statuses[0] == 422
    assert 429 in statuses
    assert statuses[statuses.index(429) :] == [429] * (len(statuses) - statuses.index(429))
    # Even the right digits wait now on that ballot, but nothing was recorded.
    assert submit(client, url, BOTH_AGREE, phone4="1234").status_code == 429
    assert count(limited_app, Vote) == 0
    # The same address still gets its other ballots, and can vote with them.
    other = world.url("1-1-102")
    assert client.get(other).status_code == 200
    assert submit(client, other, BOTH_AGREE, phone4="5678").status_code == 303
    assert count(limited_app, Vote) == 1


def test_repeated_unknown_tokens_get_429_but_a_valid_token_works(limited_app):
    world = factories.voting_world(limited_app)
    client = english(limited_app.test_client())
    statuses = [client.get(f"/b/unknown{i:04d}xxxxxxxxxxxxxx").status_code for i in range(40)]
    assert statuses[0] == 404
    assert statuses[-1] == 429
    assert set(statuses) == {404, 429}
    url = world.url(HOUSEHOLD)
    assert client.get(url).status_code == 200
    assert submit(client, url, BOTH_AGREE).status_code == 303
    assert client.get(url).status_code == 200
    assert client.get("/b/unknown9999xxxxxxxxxxxxxx").status_code == 429


def test_successful_ballot_use_is_never_limited(limited_app):
    world = factories.voting_world(limited_app)
    client = english(limited_app.test_client())
    url = world.url(HOUSEHOLD)
    assert all(client.get(url).status_code == 200 for _ in range(35))


# --- races ---------------------------------------------------------------------------------


def race(app, url: str, answers: tuple[str, ...]) -> list[int]:
    """POST confirmed votes to one ballot from several browsers at the same moment."""
    clients = [english(app.test_client()) for _ in answers]
    tokens = [csrf_token(page(c, url)[1]) for c in clients]
    barrier = threading.Barrier(len(answers))
    statuses: list[int] = []

    def post(c, token, answer):
        barrier.wait()
        data = {"csrf_token": token, "q1": answer, "q2": answer, "confirm": "yes"}
        statuses.append(c.post(url, data=data).status_code)

    threads = [
        threading.Thread(target=post, args=(c, t, a))
        for c, t, a in zip(clients, tokens, answers, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses


def test_racing_posts_for_one_household_record_one_vote(app, world):
    """Two browsers confirm at the same moment: one 303, one 409, never a 500."""
    for household in world.tokens:
        statuses = race(app, world.url(household), ("agree", "oppose"))
        assert sorted(statuses) == [303, 409], (household, statuses)
    assert count(app, Vote) == len(world.tokens)


# --- the frozen electorate on the page -----------------------------------------------------


def test_register_changes_after_opening_do_not_change_the_ballot(app, world, resident):
    rows = [
        ("1", "1", "101", "99.99", "张伟", "13800009999"),  # area and phone changed
        ("3", "1", "301", "70.00", "新业主", ""),  # new household; 1-1-102, 2-1-201 removed
    ]
    factories.import_register(app, world.slug, rows, remove_missing=True)
    response, html = page(resident, world.url(HOUSEHOLD))
    assert response.status_code == 200
    assert "87.65" in html and "99.99" not in html
    # A household removed from the register still votes in this proposal.
    assert submit(resident, world.url("2-1-201"), BOTH_AGREE).status_code == 303
