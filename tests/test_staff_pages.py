"""Staff register page: search keeps what was typed (and nothing else)."""

from __future__ import annotations

import re

from tests import factories
from tests.helpers import login


def _search_value(html: str) -> str:
    match = re.search(r'<input id="q" name="q" value="([^"]*)"', html)
    assert match, "search box missing"
    return match.group(1)


def test_search_box_shows_the_query_not_page_state(app, client):
    world = factories.voting_world(app, issue=False)
    login(client, world.staff)
    page = client.get(f"/staff/c/{world.slug}?lang=en").get_data(as_text=True)
    assert _search_value(page) == ""
    page = client.get(f"/staff/c/{world.slug}?q=1-1-101").get_data(as_text=True)
    assert _search_value(page) == "1-1-101"
    assert "1-1-101" in page and "2-1-201" not in page
