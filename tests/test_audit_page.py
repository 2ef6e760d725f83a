"""The staff audit trail page of a proposal: plain language, filters, CSV, chain status."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select, text

from residents_vote.models import AuditEvent
from tests.factories import (
    CODES,
    committee_users,
    do_decline,
    do_sign,
    final_proposal,
    signing_community,
)
from tests.helpers import engine, login, read


def world(app) -> int:
    signing_community(app)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    do_decline(app, pid, names[2], "需要更多时间审阅")
    do_sign(app, pid, names[0])
    return pid


def page(client, pid: int, **params):
    return client.get(f"/staff/proposals/{pid}/audit", query_string={"lang": "en", **params})


def test_events_in_plain_language_with_chain_status(app, client):
    pid = world(app)
    login(client, "staff-hx")
    r = page(client, pid)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="chain-status"' in html and "intact" in html
    assert f"Paper ballot of household {CODES[0]} entered by staff-hx." in html
    assert "Voting notice published: 3 households in the electorate" in html
    assert "Final result published (revision 1)." in html
    assert "hx-m3 declined to sign. Reason: 需要更多时间审阅" in html
    assert "hx-m1 signed the final result (1 signatures, 2 required)." in html
    assert "vote.cast" not in html.split("<tbody>")[1]  # codes are not shown as text
    proposal_page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert f"/staff/proposals/{pid}/audit" in proposal_page


def rows(html: str) -> int:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return body.count("<tr>")


def test_filter_by_action_and_household(app, client):
    pid = world(app)
    login(client, "staff-hx")
    everything = rows(page(client, pid).get_data(as_text=True))
    with read(app) as s:
        total = len(list(s.scalars(select(AuditEvent.id).where(AuditEvent.proposal_id == pid))))
    assert everything == total
    votes = page(client, pid, action="vote.cast").get_data(as_text=True)
    assert rows(votes) == 3
    assert "Paper ballot of household" in votes
    assert "Final result published (revision" not in votes
    one = page(client, pid, household=CODES[1]).get_data(as_text=True)
    assert rows(one) == 1 and CODES[1] in one and CODES[0] not in one.split("<tbody>")[1]
    none = page(client, pid, household="9-9-999").get_data(as_text=True)
    assert "No events match." in none


def test_csv_export_follows_the_filters(app, client):
    pid = world(app)
    login(client, "staff-hx")
    r = page(client, pid, action="vote.cast", format="csv")
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == ["seq", "time", "actor", "action", "description", "subject", "data", "hash"]
    assert len(table) == 4
    assert {row[3] for row in table[1:]} == {"vote.cast"}
    assert sorted(row[5] for row in table[1:]) == sorted(CODES)
    assert all(len(row[7]) == 64 for row in table[1:])
    full = page(client, pid, format="csv").get_data(as_text=True)
    assert "declined to sign" in full


def test_broken_chain_is_reported(app, client):
    pid = world(app)
    with engine(app).begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_event SET subject = 'tampered' WHERE id = "
                "(SELECT min(id) FROM audit_event WHERE action = 'vote.cast')"
            )
        )
    login(client, "staff-hx")
    html = page(client, pid).get_data(as_text=True)
    assert "BROKEN" in html and "content does not match its hash" in html


def test_scoping(app, client):
    pid = world(app)
    signing_community(app, "other")
    login(client, "staff-other")
    assert page(client, pid).status_code == 404
    member = app.test_client()
    login(member, "hx-m1")
    assert page(member, pid).status_code == 404  # committee members have no staff pages
    anonymous = app.test_client()
    r = anonymous.get(f"/staff/proposals/{pid}/audit")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
