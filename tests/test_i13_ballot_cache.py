"""Issue 13 item 7: the open ballot form rendered once per proposal and language
(blueprints/ballot.py `_open_ballot`) is byte-identical to rendering it per household."""

from __future__ import annotations

import pytest
from flask import render_template

from residents_vote.blueprints import ballot
from residents_vote.services import voting
from tests import factories


def _both(app, token: str, cookie: str = "") -> tuple[str, str]:
    headers = {"Cookie": cookie} if cookie else {}
    with app.test_request_context(f"/b/{token}", headers=headers):
        page = voting.ballot_page(app.extensions["rv_db"].store, token)
        ctx = page.context()
        full = render_template("ballot/ballot.html", token=token, answers={}, errors=[], **ctx)
        cached = ballot._open_ballot(token, page, ctx)
    return full, cached


@pytest.mark.parametrize("verify", ["none", "phone4"])
@pytest.mark.parametrize("cookie", ["", "lang=en"])
def test_the_kept_form_is_the_rendered_form(app, cookie, verify):
    world = factories.voting_world(app, verify=verify)
    ballot._OPEN_PAGES.clear()
    seen = set()
    for _round in range(2):  # the first fills the cache (from another household), then hits
        for code, token in sorted(world.tokens.items()):
            full, cached = _both(app, token, cookie)
            assert cached == full
            assert code in cached and token in cached and ballot._MARK not in cached
            seen.add(full.split('name="csrf_token"')[0])
    assert len(ballot._OPEN_PAGES) == 1
    assert len(seen) == len(world.tokens)  # each household's page differs


def test_a_query_string_renders_as_before(app):
    world = factories.voting_world(app)
    ballot._OPEN_PAGES.clear()
    token = next(iter(world.tokens.values()))
    with app.test_request_context(f"/b/{token}?lang=en"):
        page = voting.ballot_page(app.extensions["rv_db"].store, token)
        ballot._open_ballot(token, page, page.context())
    assert ballot._OPEN_PAGES == {}
