"""Household cost shares through services.costs.shares on a real database (Hypothesis),
and on the printed ballots.

Awkward areas (primes, 0.01 m², huge flats next to tiny ones) and awkward budgets must
still give shares that add up to the community's share to the fen, each within a fen of
its exact proportional value per pool, the same before and after the electorate is
frozen.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from residents_vote.domain import catalog
from residents_vote.domain.tally import format_area
from residents_vote.models import Community, Proposal
from residents_vote.services import communities, costs, proposals
from tests import factories
from tests.helpers import read, write

_slugs = itertools.count()

areas = st.one_of(
    st.integers(min_value=1, max_value=999_999),  # 0.01 m² .. 9999.99 m²
    st.sampled_from([1, 2, 3, 7, 9973, 33_333, 66_667, 999_999]),
)
households = st.lists(st.tuples(st.sampled_from(["1", "2", "3"]), areas), min_size=1, max_size=25)
budgets = st.integers(min_value=0, max_value=10**14 - 1)  # parse_yuan accepts 12 integer digits


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rows=households, road=budgets, elevator=budgets, water=budgets, paid=budgets)
def test_shares_sum_exactly_to_the_community_share(app, rows, road, elevator, water, paid):
    slug = f"s{next(_slugs)}"
    register = [(b, "", str(i), format_area(a), "", "") for i, (b, a) in enumerate(rows, 1)]
    with write(app) as s:
        communities.create_community(s, slug, slug, actor="test")
    factories.import_register(app, slug, register)
    lift = rows[0][0]  # an elevator in a building that has households
    items = [
        ("2.2", road, 0, ""),
        ("3.7", elevator, 0, lift),
        ("1.1", water, min(paid, water), ""),
    ]
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == slug))
        p = proposals.create(
            s, c, proposals.Draft(title="t", stage="design", questions=["q"]), actor="test"
        )
        costs.set_items(s, p, items, actor="test")
        pid = p.id
        draft_shares = costs.shares(s, p)
        proposals.open_vote(s, p, actor="test")
    with app.app_context(), read(app) as s:
        p = s.get(Proposal, pid)
        frozen = costs.shares(s, p)
        totals = costs.summary(p).totals
    assert frozen == draft_shares
    codes = {f"{b}-{i}": (b, a) for i, (b, a) in enumerate(rows, 1)}
    assert set(frozen) == set(codes)
    assert sum(frozen.values()) == totals.community_share
    assert all(v >= 0 for v in frozen.values())

    elevator_share = catalog.item_costs(catalog.item("3.7"), elevator).community_share
    wide = totals.community_share - elevator_share
    all_area = sum(a for _, a in codes.values())
    lift_area = sum(a for b, a in codes.values() if b == lift)
    for code, (b, a) in codes.items():
        exact = Fraction(wide * a, all_area)
        if b == lift:
            exact += Fraction(elevator_share * a, lift_area)
        assert abs(frozen[code] - exact) < 2, (code, frozen[code], float(exact))


def test_ballots_issue_cli_prints_each_households_share(app, runner, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler) missing")
    factories.community(app)
    pid = factories.proposal(app, open_vote=False)
    with write(app) as s:
        p = proposals.lock(s, pid)
        costs.set_items(s, p, [("2.2", 350_000_00, 0, "")], actor="test")
        proposals.open_vote(s, p, actor="test")
    with app.app_context(), read(app) as s:
        shares = costs.shares(s, s.get(Proposal, pid))
    assert sum(shares.values()) > 0
    out = tmp_path / "ballots.pdf"
    result = runner.invoke(args=["ballots", "issue", str(pid), "--pdf", str(out)])
    assert result.exit_code == 0, result.output
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    from residents_vote.domain.costs import format_yuan

    pages = text.split("\f")
    for code_, fen in shares.items():
        page = next(p for p in pages if code_ in p)
        assert format_yuan(fen) in page, (code_, fen)
